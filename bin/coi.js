#!/usr/bin/env node
'use strict';
// The `coi` command.
require('./require-bundle')('cli.js');
