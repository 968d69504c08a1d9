// The panel writes a typed value after a pause (debounced), so that typing a word is one undo step.
// Validate and deploy must see what was typed even when clicked within that pause: this replaces the
// panel's `debounceInput` service with one that remembers its pending writes and can flush them.
import { debounce } from "min-dash";

const DELAY = 300;

function pendingEditsFactory() {
  const pending = new Set();
  const debounceInput = (fn) => {
    const delayed = debounce((...args) => {
      pending.delete(delayed);
      fn(...args);
    }, DELAY);
    return (...args) => {
      pending.add(delayed);
      delayed(...args);
    };
  };
  debounceInput.flushAll = () => {
    for (const delayed of [...pending]) delayed.flush();
    pending.clear();
  };
  return debounceInput;
}

export const pendingEditsModule = { debounceInput: ["factory", pendingEditsFactory] };
