import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { type Diagnostic, setDiagnostics } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';

/** The factor editor: a one-expression CodeMirror 6 view with diagnostics (underlined errors). */
export interface FactorEditor {
  readonly view: EditorView;
  /** Underlines `[from, to)` with `message`, or clears the underlines (null). */
  showError(error: { from: number; to: number; message: string } | null): void;
}

/** Mounts the editor into `parent`; `onChange` receives the text after every edit. */
export function createEditor(
  parent: HTMLElement,
  text: string,
  onChange: (text: string) => void,
): FactorEditor {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'data-testid': 'factor-input', 'aria-label': 'modulating factor' }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
        EditorView.theme({
          '&': { border: '1px solid #bbb', borderRadius: '4px', fontSize: '15px', background: '#fff' },
          '.cm-content': { fontFamily: 'ui-monospace, monospace', padding: '8px 4px' },
          '&.cm-focused': { outline: '2px solid #4c8bf5' },
        }),
      ],
    }),
  });
  return {
    view,
    showError(error) {
      const length = view.state.doc.length;
      const diagnostics: Diagnostic[] =
        error === null
          ? []
          : [
              {
                from: Math.min(error.from, length),
                to: Math.min(Math.max(error.to, error.from), length),
                severity: 'error',
                message: error.message,
              },
            ];
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
  };
}
