// What every entry of our properties-panel groups uses: the page's catalogue and labels with the bpmn-js
// services that change the diagram, and a text entry for an extension element's body.
import { TextAreaEntry } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject } from "bpmn-js/lib/util/ModelUtil";
import { getBody, setBody } from "./extensions.js";

export function usePanel() {
  const { catalogue, labels } = useService("pis2Panel");
  return { catalogue, labels, bpmnFactory: useService("bpmnFactory"), commandStack: useService("commandStack"),
    modeling: useService("modeling"), debounce: useService("debounceInput") };
}

export function BodyEntry({ element, id, type, label, description, target, monospace, rows }) {
  const panel = usePanel();
  const bo = target || getBusinessObject(element);
  return TextAreaEntry({
    element, id, label, description, debounce: panel.debounce, monospace, rows: rows || 4,
    getValue: () => getBody(bo, type),
    setValue: (value) => setBody(panel, element, bo, type, value || ""),
  });
}
