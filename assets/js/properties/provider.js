// Our own properties-panel groups: the extensions our engine reads (roles of lanes, forms, instructions
// and scripts of user tasks, conditions, message payloads and correlations, service operations, decisions).
// The catalogues (roles, operations, form files, decision ids) and every label come from the page
// (`pis2Panel` service: { catalogue, labels }); this file holds no user text.
import { Group, ListGroup, SelectEntry, TextAreaEntry, TextFieldEntry, isSelectEntryEdited,
  isTextAreaEntryEdited, isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { getBusinessObject, is, isAny } from "bpmn-js/lib/util/ModelUtil";
import { MULTI, ensureExtension, findExtension, getBody, getProperty, removeExtension, setBody, setProperty,
  updateCommand } from "./extensions.js";
import { SuggestEntry, isSuggestEdited } from "./fields.js";
import { messageGroup } from "./messages.js";
import { BodyEntry, usePanel } from "./panel.js";

// ISO 8601 durations as the engine's due dates take them: P2D, PT4H, P1W, P1Y2M3DT4H5M6S.
const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

function normalise(text) {
  return (text || "").split(/\s+/).filter(Boolean).join(" ").toLowerCase();
}

// The role a lane name stands for, as the engine resolves it (engine/validation.py resolve_lane_role).
export function laneRole(name, roles) {
  const wanted = normalise(name);
  if (!wanted) return "";
  const role = roles.find((r) => [normalise(r.key), normalise(r.label)].includes(wanted)
    || wanted.replaceAll(" ", "_") === normalise(r.key));
  return role ? role.key : "";
}

function withCurrent(options, current, labels) {
  if (current && !options.some((option) => option.value === current)) {
    return [...options, { value: current, label: `${current} (${labels.unknownValue})` }];
  }
  return options;
}

// --- lanes --------------------------------------------------------------------------------------

function RoleEntry({ element, id }) {
  const { catalogue, labels, modeling } = usePanel();
  return SelectEntry({
    element, id, label: labels.role, description: labels.roleHelp,
    getValue: () => laneRole(getBusinessObject(element).get("name"), catalogue.roles),
    setValue: (key) => {
      const role = catalogue.roles.find((r) => r.key === key);
      modeling.updateProperties(element, { name: role ? role.label : undefined });
    },
    getOptions: () => [{ value: "", label: labels.noRole },
      ...catalogue.roles.map((role) => ({ value: role.key, label: role.label }))],
  });
}

// --- user and manual tasks ----------------------------------------------------------------------

function FormFileEntry({ element, id, property, suffix, label }) {
  const panel = usePanel();
  const bo = getBusinessObject(element);
  const files = panel.catalogue.forms.filter((name) => name.endsWith(suffix));
  return SuggestEntry({
    element, id, label, options: files, description: panel.labels.formFileHelp,
    getValue: () => getProperty(bo, property),
    setValue: (value) => setProperty(panel, element, bo, property, value.trim()),
  });
}

function DueInEntry({ element, id }) {
  const panel = usePanel();
  const bo = getBusinessObject(element);
  return TextFieldEntry({
    element, id, label: panel.labels.dueIn, description: panel.labels.dueInHelp, debounce: panel.debounce,
    getValue: () => getProperty(bo, "dueIn"),
    setValue: (value) => setProperty(panel, element, bo, "dueIn", (value || "").trim()),
    validate: (value) => (value && !DURATION.test(value.trim()) ? panel.labels.dueInInvalid : null),
  });
}

function formGroups(element, labels) {
  const entry = (id, props) => ({ id, element, ...props });
  return [{
    id: "pis2-form", label: labels.formGroup, component: Group,
    entries: [
      entry("pis2-form-schema", { component: FormFileEntry, isEdited: isSuggestEdited,
        property: "formJsonSchemaFilename", suffix: ".schema.json", label: labels.formSchema }),
      entry("pis2-form-uischema", { component: FormFileEntry, isEdited: isSuggestEdited,
        property: "formUiSchemaFilename", suffix: ".uischema.json", label: labels.formUiSchema }),
      entry("pis2-due-in", { component: DueInEntry, isEdited: isTextFieldEntryEdited }),
    ],
  }, {
    id: "pis2-instructions", label: labels.instructionsGroup, component: Group,
    entries: [
      entry("pis2-instructions-text", { component: BodyEntry, isEdited: isTextAreaEntryEdited, rows: 6,
        type: "spiffworkflow:InstructionsForEndUser", label: labels.instructions,
        description: labels.instructionsHelp }),
      entry("pis2-pre-script", { component: BodyEntry, isEdited: isTextAreaEntryEdited, monospace: true,
        type: "spiffworkflow:PreScript", label: labels.preScript, description: labels.preScriptHelp }),
      entry("pis2-post-script", { component: BodyEntry, isEdited: isTextAreaEntryEdited, monospace: true,
        type: "spiffworkflow:PostScript", label: labels.postScript, description: labels.postScriptHelp }),
    ],
  }];
}

// --- conditions ---------------------------------------------------------------------------------

function ConditionEntry({ element, id }) {
  const panel = usePanel();
  const bo = getBusinessObject(element);
  return TextAreaEntry({
    element, id, label: panel.labels.condition, description: panel.labels.conditionHelp,
    debounce: panel.debounce, monospace: true, rows: 2,
    getValue: () => (bo.get("conditionExpression") && bo.get("conditionExpression").get("body")) || "",
    setValue: (value) => {
      const current = bo.get("conditionExpression");
      if (!value) {
        panel.modeling.updateProperties(element, { conditionExpression: undefined });
      } else if (current) {
        panel.modeling.updateModdleProperties(element, current, { body: value });
      } else {
        const expression = panel.bpmnFactory.create("bpmn:FormalExpression", { body: value });
        panel.modeling.updateProperties(element, { conditionExpression: expression });
      }
    },
  });
}

function isConditional(element) {
  if (!is(element, "bpmn:SequenceFlow")) return false;
  const source = getBusinessObject(element).get("sourceRef");
  return isAny(source, ["bpmn:ExclusiveGateway", "bpmn:InclusiveGateway"]);
}

// --- service tasks ------------------------------------------------------------------------------

function operatorOf(element) {
  return findExtension(getBusinessObject(element), "spiffworkflow:ServiceTaskOperator");
}

function parametersOf(operator) {
  const list = operator && operator.get("parameterList");
  return (list && list.get("parameters")) || [];
}

// The commands that give the task's operator `parameters` (creating operator and list if needed).
function parameterCommands(panel, element, parameters, operatorAttrs) {
  const bo = getBusinessObject(element);
  const commands = [];
  const operator = ensureExtension(panel.bpmnFactory, element, bo, "spiffworkflow:ServiceTaskOperator", commands);
  if (operatorAttrs) commands.push(updateCommand(element, operator, operatorAttrs));
  let list = operator.get("parameterList");
  if (!list) {
    list = panel.bpmnFactory.create("spiffworkflow:Parameters", { parameters: [] });
    list.$parent = operator;
    commands.push(updateCommand(element, operator, { parameterList: list }));
  }
  for (const parameter of parameters) parameter.$parent = list;
  commands.push(updateCommand(element, list, { parameters }));
  return commands;
}

function OperationEntry({ element, id }) {
  const panel = usePanel();
  const bo = getBusinessObject(element);
  return SelectEntry({
    element, id, label: panel.labels.operation, description: panel.labels.operationHelp,
    getValue: () => (operatorOf(element) && operatorOf(element).get("id")) || "",
    setValue: (name) => {
      const operator = operatorOf(element);
      if (!name) {
        if (operator) {
          const commands = [];
          removeExtension(element, bo, operator, commands);
          panel.commandStack.execute(MULTI, commands);
        }
        return;
      }
      // A new operation on a task without parameters gets one row per parameter the server knows.
      const known = (panel.catalogue.operations.find((o) => o.name === name) || {}).parameters || [];
      const existing = parametersOf(operator);
      const parameters = existing.length ? existing : known.map((parameterId) =>
        panel.bpmnFactory.create("spiffworkflow:Parameter", { id: parameterId, type: "str", value: "" }));
      panel.commandStack.execute(MULTI, parameterCommands(panel, element, parameters, { id: name }));
    },
    getOptions: () => withCurrent([{ value: "", label: panel.labels.none },
      ...panel.catalogue.operations.map((o) => ({ value: o.name, label: o.name }))],
    (operatorOf(element) && operatorOf(element).get("id")) || "", panel.labels),
  });
}

function ResultVariableEntry({ element, id }) {
  const panel = usePanel();
  const bo = getBusinessObject(element);
  return TextFieldEntry({
    element, id, label: panel.labels.resultVariable, description: panel.labels.resultVariableHelp,
    debounce: panel.debounce,
    getValue: () => (operatorOf(element) && operatorOf(element).get("resultVariable")) || "",
    setValue: (value) => {
      const commands = [];
      const operator = ensureExtension(panel.bpmnFactory, element, bo, "spiffworkflow:ServiceTaskOperator", commands);
      commands.push(updateCommand(element, operator, { resultVariable: (value || "").trim() || undefined }));
      panel.commandStack.execute(MULTI, commands);
    },
  });
}

function ParameterField({ element, id, parameter, field, label }) {
  const panel = usePanel();
  const props = {
    element, id, label, debounce: panel.debounce,
    getValue: () => parameter.get(field) || "",
    setValue: (value) => panel.modeling.updateModdleProperties(element, parameter, { [field]: value || "" }),
  };
  if (field === "id") {
    const operator = operatorOf(element);
    const known = (panel.catalogue.operations.find((o) => o.name === (operator && operator.get("id"))) || {});
    return SuggestEntry({ ...props, options: known.parameters || [] });
  }
  return TextFieldEntry(props);
}

function parameterGroup(element, injector, labels) {
  const parameters = parametersOf(operatorOf(element));
  const panel = {
    bpmnFactory: injector.get("bpmnFactory"), commandStack: injector.get("commandStack"),
    catalogue: injector.get("pis2Panel").catalogue,
  };
  const items = parameters.map((parameter, index) => {
    const prefix = `pis2-parameter-${index}`;
    const field = (name, label, isEdited) => ({ id: `${prefix}-${name}`, element, parameter, field: name, label,
      component: ParameterField, isEdited });
    return {
      id: prefix, label: parameter.get("id") || labels.newParameter,
      entries: [field("id", labels.parameterName, isSuggestEdited),
        field("type", labels.parameterType, isTextFieldEntryEdited),
        field("value", labels.parameterValue, isTextFieldEntryEdited)],
      autoFocusEntry: `${prefix}-id`,
      remove: () => panel.commandStack.execute(MULTI,
        parameterCommands(panel, element, parameters.filter((p) => p !== parameter))),
    };
  });
  const add = (event) => {
    event.stopPropagation();
    const operator = operatorOf(element);
    const known = (panel.catalogue.operations.find((o) => o.name === (operator && operator.get("id"))) || {});
    const used = new Set(parameters.map((p) => p.get("id")));
    const next = (known.parameters || []).find((name) => !used.has(name)) || "";
    const parameter = panel.bpmnFactory.create("spiffworkflow:Parameter", { id: next, type: "str", value: "" });
    panel.commandStack.execute(MULTI, parameterCommands(panel, element, [...parameters, parameter]));
  };
  return { id: "pis2-service-parameters", label: labels.parameters, component: ListGroup, items, add,
    element, shouldOpen: true, translate: injector.get("translate") };
}

// --- business rule tasks ------------------------------------------------------------------------

function DecisionEntry({ element, id }) {
  const panel = usePanel();
  const bo = getBusinessObject(element);
  return SelectEntry({
    element, id, label: panel.labels.decision, description: panel.labels.decisionHelp,
    getValue: () => getBody(bo, "spiffworkflow:CalledDecisionId"),
    setValue: (value) => setBody(panel, element, bo, "spiffworkflow:CalledDecisionId", value),
    getOptions: () => withCurrent([{ value: "", label: panel.labels.none },
      ...panel.catalogue.decisions.map((d) => ({ value: d, label: d }))],
    getBody(bo, "spiffworkflow:CalledDecisionId"), panel.labels),
  });
}

// --- the provider -------------------------------------------------------------------------------

function ourGroups(element, injector) {
  const { labels } = injector.get("pis2Panel");
  const groups = [];
  if (is(element, "bpmn:Lane")) {
    groups.push({ id: "pis2-role", label: labels.roleGroup, component: Group,
      entries: [{ id: "pis2-role-select", element, component: RoleEntry, isEdited: isSelectEntryEdited }] });
  }
  if (isAny(element, ["bpmn:UserTask", "bpmn:ManualTask"])) groups.push(...formGroups(element, labels));
  if (isConditional(element)) {
    groups.push({ id: "pis2-condition", label: labels.conditionGroup, component: Group,
      entries: [{ id: "pis2-condition-expression", element, component: ConditionEntry,
        isEdited: isTextAreaEntryEdited }] });
  }
  const message = messageGroup(element, labels);
  if (message) groups.push(message);
  if (is(element, "bpmn:ServiceTask")) {
    groups.push({ id: "pis2-service", label: labels.serviceGroup, component: Group, entries: [
      { id: "pis2-operation", element, component: OperationEntry, isEdited: isSelectEntryEdited },
      { id: "pis2-result-variable", element, component: ResultVariableEntry, isEdited: isTextFieldEntryEdited },
    ] });
    groups.push(parameterGroup(element, injector, labels));
  }
  if (is(element, "bpmn:BusinessRuleTask")) {
    groups.push({ id: "pis2-decision", label: labels.decisionGroup, component: Group,
      entries: [{ id: "pis2-called-decision", element, component: DecisionEntry, isEdited: isSelectEntryEdited }] });
  }
  return groups;
}

class Pis2PropertiesProvider {
  constructor(propertiesPanel, injector) {
    this._injector = injector;
    propertiesPanel.registerProvider(500, this);
  }

  getGroups(element) {
    return (groups) => {
      // Ours go after bpmn-js's general and documentation groups, before the rest.
      const at = groups.findIndex((group) => !["general", "documentation"].includes(group.id));
      const ours = ourGroups(element, this._injector);
      if (at < 0) return [...groups, ...ours];
      return [...groups.slice(0, at), ...ours, ...groups.slice(at)];
    };
  }
}
Pis2PropertiesProvider.$inject = ["propertiesPanel", "injector"];

// The module, given the page's catalogue and labels.
export function pis2PropertiesModule(catalogue, labels) {
  return {
    __init__: ["pis2PropertiesProvider"],
    pis2PropertiesProvider: ["type", Pis2PropertiesProvider],
    pis2Panel: ["value", { catalogue, labels }],
  };
}

// bpmn-js's own strings, through the page's translations (English text as the key).
export function translateModule(translations) {
  const translate = (template, replacements) => (translations[template] || template)
    .replace(/{([^}]+)}/g, (whole, key) => (replacements && key in replacements ? replacements[key] : whole));
  return { translate: ["value", translate] };
}
