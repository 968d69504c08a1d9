// Reading and writing our engine's spiffworkflow:* extension elements on bpmn-js business objects.
// Every write is a list of bpmn-js commands run as one step on the command stack, so one undo reverts it.
import { is } from "bpmn-js/lib/util/ModelUtil";

export const MULTI = "properties-panel.multi-command-executor";

function update(element, moddleElement, properties) {
  return { cmd: "element.updateModdleProperties", context: { element, moddleElement, properties } };
}

export function extensionValues(bo) {
  const extensions = bo && bo.get("extensionElements");
  return (extensions && extensions.get("values")) || [];
}

export function findExtension(bo, type) {
  return extensionValues(bo).find((value) => is(value, type));
}

// The extension element of `type` in bo, created (with bo's extensionElements if needed) by commands
// added to `commands`.
export function ensureExtension(bpmnFactory, element, bo, type, commands, attrs) {
  let extensions = bo.get("extensionElements");
  if (!extensions) {
    extensions = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    extensions.$parent = bo;
    commands.push(update(element, bo, { extensionElements: extensions }));
  }
  let found = extensions.get("values").find((value) => is(value, type));
  if (!found) {
    found = bpmnFactory.create(type, attrs || {});
    found.$parent = extensions;
    commands.push(update(element, extensions, { values: [...extensions.get("values"), found] }));
  }
  return found;
}

// Drop `child` from bo's extension elements, and the extensionElements itself once empty.
export function removeExtension(element, bo, child, commands) {
  const extensions = bo.get("extensionElements");
  const values = extensions.get("values").filter((value) => value !== child);
  commands.push(values.length ? update(element, extensions, { values })
    : update(element, bo, { extensionElements: undefined }));
}

// A text-bodied extension (instructions, scripts, payload, variable, decision id).
export function getBody(bo, type) {
  const found = findExtension(bo, type);
  return (found && found.get("value")) || "";
}

export function setBody(services, element, bo, type, value) {
  const { bpmnFactory, commandStack } = services;
  const commands = [];
  const found = findExtension(bo, type);
  if (!value) {
    if (found) removeExtension(element, bo, found, commands);
  } else {
    const target = ensureExtension(bpmnFactory, element, bo, type, commands);
    commands.push(update(element, target, { value }));
  }
  if (commands.length) commandStack.execute(MULTI, commands);
}

// spiffworkflow:properties/spiffworkflow:property[@name] of a task.
export function getProperty(bo, name) {
  const list = findExtension(bo, "spiffworkflow:Properties");
  const found = list && list.get("properties").find((property) => property.get("name") === name);
  return (found && found.get("value")) || "";
}

export function setProperty(services, element, bo, name, value) {
  const { bpmnFactory, commandStack } = services;
  const commands = [];
  const list = findExtension(bo, "spiffworkflow:Properties");
  const found = list && list.get("properties").find((property) => property.get("name") === name);
  if (!value) {
    if (!found) return;
    const rest = list.get("properties").filter((property) => property !== found);
    if (rest.length) commands.push(update(element, list, { properties: rest }));
    else removeExtension(element, bo, list, commands);
  } else if (found) {
    commands.push(update(element, found, { value }));
  } else {
    const target = ensureExtension(bpmnFactory, element, bo, "spiffworkflow:Properties", commands);
    const property = bpmnFactory.create("spiffworkflow:Property", { name, value });
    property.$parent = target;
    commands.push(update(element, target, { properties: [...target.get("properties"), property] }));
  }
  commandStack.execute(MULTI, commands);
}

export { update as updateCommand };
