/**
 * client/notificationText.ts: no text that reaches a notification keeps a link VS Code would
 * render (and a click would run), and the text reads as it was written.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inertLinks, NOTIFICATION_LINK } from '../../client/notificationText';

/** What VS Code does to a notification's message before it looks for links (NotificationViewItem.parseNotificationMessage). */
function linksVsCodeFinds(message: string): string[] {
  const shown = (message.length > 1000 ? `${message.slice(0, 1000)}...` : message).replace(/(\r\n|\n|\r)/gm, ' ').trim();
  return [...shown.matchAll(NOTIFICATION_LINK)].map((m) => m[0]);
}

const crafted: readonly string[] = [
  '[Open a terminal](command:workbench.action.terminal.new)',
  'The step failed: expected one of positive, negative, got "[click here](command:workbench.action.openSettings?%5B%22coi%22%5D)"',
  '[x](COMMAND:workbench.action.reloadWindow)',
  '[[nested](command:a)] and [a [b](command:b) c]',
  '[one](https://example.com/a) [two](file:///etc/passwd) [three](command:c)',
  '[titled](https://example.com "a title") [single](file:///x \'t\')',
  'label](command:x) [missing open',
  ']]]((((command:x)',
  `${'a'.repeat(970)}[late](command:x)`,
];

void describe('inertLinks', () => {
  for (const text of crafted) {
    void test(`leaves no link in ${JSON.stringify(text.slice(-60))}`, () => {
      const inert = inertLinks(text);
      assert.deepEqual(linksVsCodeFinds(inert), []);
      assert.equal(inert.replaceAll('\u200B', ''), text, 'only invisible characters are added');
      assert.equal(inertLinks(inert), inert, 'applying it twice changes nothing more');
    });
  }

  void test('the crafted texts are links without it (the test would catch a regression)', () => {
    const meantAsLinks = crafted.filter((t) => !t.startsWith('label]') && !t.startsWith(']]]'));
    for (const text of meantAsLinks) assert.notDeepEqual(linksVsCodeFinds(text), [], text);
  });

  void test('a link split over lines, or made of a fixed message and a file\'s text, stays inert', () => {
    assert.deepEqual(linksVsCodeFinds(inertLinks('Step [s1]\n(command:x)')), []);
    assert.deepEqual(linksVsCodeFinds(inertLinks(`Fine-tuning job [${'x'}](${'command:x'}) is running.`)), []);
  });

  void test('text without a link is unchanged', () => {
    for (const text of ['Fine-tuning job ft-20261201-abc123 is cancelled.', 'Together refused the API key [key] (401): check TOGETHER_API_KEY.', 'Evaluation demo stopped after 3/10: endpoint down (exit 1).', 'a ] ( b', '[draft]', '']) {
      assert.equal(inertLinks(text), text);
    }
  });
});
