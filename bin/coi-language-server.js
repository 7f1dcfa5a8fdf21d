#!/usr/bin/env node
'use strict';
// The `.coi` language server as a standalone program: `coi-language-server --stdio`.
require('./require-bundle')('server.js');
