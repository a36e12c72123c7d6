import { useEffect, useRef } from 'react';

export const SHORTCUTS: [string, string][] = [
  ['j / k', 'Next / previous conversation'],
  ['/', 'Search conversations'],
  ['r', 'Reply (focus the composer)'],
  ['n', 'Write an internal note'],
  ['c', 'Claim the conversation'],
  ['t', 'Take over (managers)'],
  ['h', 'Hand off (person or team, with a note)'],
  ['a', 'Assign (managers)'],
  ['e', 'Resolve'],
  ['p', 'Mark pending'],
  ['s', 'Snooze until…'],
  ['m', 'Remind me…'],
  ['1 – 4', 'Views: Mine, Unassigned, My teams, All'],
  ['Enter', 'Send (Shift+Enter: new line)'],
  ['Esc', 'Close a dialog'],
  ['?', 'This cheat sheet'],
];

/** The `?` cheat sheet. */
export function Shortcuts({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="kbd-title" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
        <h2 id="kbd-title">Keyboard shortcuts</h2>
        <table className="kbd">
          <tbody>
            {SHORTCUTS.map(([k, what]) => (
              <tr key={k}>
                <td>
                  <kbd>{k}</kbd>
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="row end">
          <button ref={ref} onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
