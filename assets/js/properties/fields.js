// Panel entries we need beyond those of @bpmn-io/properties-panel, written with the preact it ships.
import { h } from "@bpmn-io/properties-panel/preact";
import { useEffect, useMemo, useRef, useState } from "@bpmn-io/properties-panel/preact/hooks";
import { useService } from "bpmn-js-properties-panel";

// A text field that suggests known values (a <datalist>) but accepts any typed one.
export function SuggestEntry(props) {
  const { element, id, label, description, getValue, setValue, options } = props;
  const debounce = useService("debounceInput");
  const value = getValue(element) || "";
  const [local, setLocal] = useState(value);
  const latest = useRef(setValue);
  latest.current = setValue;
  useEffect(() => setLocal(value), [value]);
  const write = useMemo(() => debounce((next) => latest.current(next)), [debounce, element]);
  const inputId = `bio-properties-panel-${id}`;
  const listId = `${inputId}-options`;
  const onInput = (event) => {
    setLocal(event.target.value);
    write(event.target.value);
  };
  return h("div", { class: "bio-properties-panel-entry", "data-entry-id": id },
    h("div", { class: "bio-properties-panel-textfield" },
      h("label", { for: inputId, class: "bio-properties-panel-label" }, label),
      h("input", {
        id: inputId, name: id, type: "text", list: listId, value: local, onInput, autoComplete: "off",
        spellCheck: false, class: "bio-properties-panel-input",
        "aria-describedby": description ? `${inputId}-description` : undefined,
      }),
      h("datalist", { id: listId }, options.map((option) => h("option", { value: option })))),
    description && h("div", { id: `${inputId}-description`, class: "bio-properties-panel-description" },
      description));
}

// The panel marks a group as edited when one of its entries' inputs has a value.
export function isSuggestEdited(input) {
  return !!(input && input.value);
}
