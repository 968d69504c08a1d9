// The message group of our properties panel: which message a send task throws, a thrown message's
// payload or a caught one's variable, and the correlation properties that route it: the expression that
// reads each from the message, and a new property (added to the collaboration's correlation key, with
// its expression for this message, since SpiffWorkflow refuses a property that no message reads).
import { Group, SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextAreaEntryEdited,
  isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { getBusinessObject, is, isAny } from "bpmn-js/lib/util/ModelUtil";
import { MULTI, getBody, setBody, updateCommand } from "./extensions.js";
import { BodyEntry, usePanel } from "./panel.js";

function messageHolder(element) {
  const bo = getBusinessObject(element);
  if (isAny(element, ["bpmn:ReceiveTask", "bpmn:SendTask"])) return bo;
  return (bo.get("eventDefinitions") || []).find((d) => is(d, "bpmn:MessageEventDefinition"));
}

function isThrowing(element) {
  return isAny(element, ["bpmn:IntermediateThrowEvent", "bpmn:EndEvent", "bpmn:SendTask"]);
}

function definitionsOf(bo) {
  let node = bo;
  while (node.$parent) node = node.$parent;
  return node;
}

const NEW_MESSAGE = "__new__";

// Send tasks: bpmn-js's own message group covers events and receive tasks, not these.
function SendMessageEntry({ element, id }) {
  const panel = usePanel();
  const bo = getBusinessObject(element);
  const definitions = definitionsOf(bo);
  const messages = definitions.get("rootElements").filter((root) => is(root, "bpmn:Message"));
  return SelectEntry({
    element, id, label: panel.labels.message,
    getValue: () => (bo.get("messageRef") ? bo.get("messageRef").get("id") : ""),
    setValue: (value) => {
      if (value !== NEW_MESSAGE) {
        panel.modeling.updateProperties(element, { messageRef: messages.find((m) => m.get("id") === value) });
        return;
      }
      const message = panel.bpmnFactory.create("bpmn:Message", { name: panel.labels.newMessageName });
      message.$parent = definitions;
      panel.commandStack.execute(MULTI, [
        updateCommand(element, definitions, { rootElements: [...definitions.get("rootElements"), message] }),
        updateCommand(element, bo, { messageRef: message }),
      ]);
    },
    getOptions: () => [{ value: "", label: panel.labels.none },
      ...messages.map((m) => ({ value: m.get("id"), label: m.get("name") || m.get("id") })),
      { value: NEW_MESSAGE, label: panel.labels.newMessage }],
  });
}

function CorrelationEntry({ element, id, property, keys }) {
  const panel = usePanel();
  const holder = messageHolder(element);
  const message = holder.get("messageRef");
  const expressions = () => property.get("correlationPropertyRetrievalExpression");
  const current = () => expressions().find((e) => e.get("messageRef") === message);
  const name = property.get("name") || property.get("id");
  return TextFieldEntry({
    element, id, debounce: panel.debounce,
    label: keys.length ? `${name} (${keys.join(", ")})` : name,
    description: panel.labels.correlationHelp,
    getValue: () => {
      const found = current();
      return (found && found.get("messagePath") && found.get("messagePath").get("body")) || "";
    },
    setValue: (value) => {
      const found = current();
      const commands = [];
      if (!value) {
        if (!found) return;
        commands.push(updateCommand(element, property,
          { correlationPropertyRetrievalExpression: expressions().filter((e) => e !== found) }));
      } else if (found && found.get("messagePath")) {
        commands.push(updateCommand(element, found.get("messagePath"), { body: value }));
      } else {
        const path = panel.bpmnFactory.create("bpmn:FormalExpression", { body: value });
        if (found) {
          path.$parent = found;
          commands.push(updateCommand(element, found, { messagePath: path }));
        } else {
          const retrieval = panel.bpmnFactory.create("bpmn:CorrelationPropertyRetrievalExpression",
            { messageRef: message, messagePath: path });
          path.$parent = retrieval;
          retrieval.$parent = property;
          commands.push(updateCommand(element, property,
            { correlationPropertyRetrievalExpression: [...expressions(), retrieval] }));
        }
      }
      panel.commandStack.execute(MULTI, commands);
    },
  });
}

// A property name is also its id: a plain identifier the message payload can hold.
const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// What is typed in the "new property" field, per element, until the field is left.
const typedNames = new Map();

function collaborationOf(definitions) {
  return definitions.get("rootElements").find((root) => is(root, "bpmn:Collaboration"));
}

function newPropertyProblem(definitions, name, labels) {
  if (!name) return null;
  if (!PROPERTY_NAME.test(name)) return labels.correlationNameInvalid;
  if (definitions.get("rootElements").some((root) => root.get("id") === name)) return labels.correlationNameTaken;
  if (!collaborationOf(definitions)) return labels.correlationNeedsPool;
  return null;
}

// Commands that add the property `name`, read from `message` by the expression `name` (the payload
// field of that name; the analyst edits it below), to the collaboration's first correlation key.
function addPropertyCommands(panel, element, definitions, message, name) {
  const collaboration = collaborationOf(definitions);
  const path = panel.bpmnFactory.create("bpmn:FormalExpression", { body: name });
  const retrieval = panel.bpmnFactory.create("bpmn:CorrelationPropertyRetrievalExpression",
    { messageRef: message, messagePath: path });
  const property = panel.bpmnFactory.create("bpmn:CorrelationProperty",
    { id: name, name, correlationPropertyRetrievalExpression: [retrieval] });
  path.$parent = retrieval;
  retrieval.$parent = property;
  property.$parent = definitions;
  const commands = [updateCommand(element, definitions,
    { rootElements: [...definitions.get("rootElements"), property] })];
  const keys = collaboration.get("correlationKeys") || [];
  if (keys.length) {
    commands.push(updateCommand(element, keys[0],
      { correlationPropertyRef: [...(keys[0].get("correlationPropertyRef") || []), property] }));
  } else {
    const key = panel.bpmnFactory.create("bpmn:CorrelationKey", { name, correlationPropertyRef: [property] });
    key.$parent = collaboration;
    commands.push(updateCommand(element, collaboration, { correlationKeys: [key] }));
  }
  return commands;
}

function NewCorrelationEntry({ element, id }) {
  const panel = usePanel();
  const holder = messageHolder(element);
  const definitions = definitionsOf(holder);
  return TextFieldEntry({
    element, id, debounce: (fn) => fn, label: panel.labels.correlationNew,
    description: panel.labels.correlationNewHelp,
    getValue: () => typedNames.get(element.id) || "",
    setValue: (value) => typedNames.set(element.id, (value || "").trim()),
    validate: (value) => newPropertyProblem(definitions, (value || "").trim(), panel.labels),
    onBlur: () => {
      const name = typedNames.get(element.id) || "";
      typedNames.delete(element.id);
      if (!name || newPropertyProblem(definitions, name, panel.labels)) return;
      panel.commandStack.execute(MULTI,
        addPropertyCommands(panel, element, definitions, holder.get("messageRef"), name));
    },
  });
}

export function messageGroup(element, labels) {
  const holder = messageHolder(element);
  if (!holder) return null;
  const entries = [];
  if (is(element, "bpmn:SendTask")) {
    entries.push({ id: "pis2-send-message", element, component: SendMessageEntry, isEdited: isSelectEntryEdited });
  }
  if (isThrowing(element)) {
    entries.push({ id: "pis2-message-payload", element, component: BodyEntry, isEdited: isTextAreaEntryEdited,
      type: "spiffworkflow:MessagePayload", target: holder, monospace: true, label: labels.messagePayload,
      description: labels.messagePayloadHelp });
  } else {
    entries.push({ id: "pis2-message-variable", element, component: VariableEntry, isEdited: isTextFieldEntryEdited,
      target: holder });
  }
  const message = holder.get("messageRef");
  if (message) {
    const definitions = definitionsOf(holder);
    const keys = definitions.get("rootElements").filter((root) => is(root, "bpmn:Collaboration"))
      .flatMap((collaboration) => collaboration.get("correlationKeys") || []);
    for (const property of definitions.get("rootElements").filter((r) => is(r, "bpmn:CorrelationProperty"))) {
      const usedBy = keys.filter((key) => (key.get("correlationPropertyRef") || []).includes(property))
        .map((key) => key.get("name"));
      entries.push({ id: `pis2-correlation-${property.get("id")}`, element, component: CorrelationEntry,
        isEdited: isTextFieldEntryEdited, property, keys: usedBy });
    }
    entries.push({ id: "pis2-correlation-new", element, component: NewCorrelationEntry,
      isEdited: () => false });
  }
  return { id: "pis2-message", label: labels.messageGroup, component: Group, entries };
}

function VariableEntry({ element, id, target }) {
  const panel = usePanel();
  return TextFieldEntry({
    element, id, label: panel.labels.messageVariable, description: panel.labels.messageVariableHelp,
    debounce: panel.debounce,
    getValue: () => getBody(target, "spiffworkflow:MessageVariable"),
    setValue: (value) => setBody(panel, element, target, "spiffworkflow:MessageVariable", (value || "").trim()),
  });
}
