// The editor of the kata pages, as one file (site/assets/dojo/editor.js, global `DojoEditor`):
// CodeMirror 6's basic setup (line numbers, undo, brackets, search) with Python highlighting
// and indentation, Tab indenting (Escape then Tab leaves the editor, as CodeMirror documents).
import { basicSetup, EditorView } from "codemirror";
import { python } from "@codemirror/lang-python";
import { EditorState } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";

// create(parent, source, onChange) -> {get(), set(text), view}
export function create(parent, source, onChange) {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: source,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        python(),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && onChange) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    get: () => view.state.doc.toString(),
    set: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
  };
}
