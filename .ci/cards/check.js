// Parses and renders Adaptive Cards with Microsoft's own renderer under Teams' host config.
// Reads a JSON array of cards on stdin; writes one {errors, warnings} per card on stdout.
// Run by tests/cards (one process for every card, so the machine is not loaded per card).
"use strict";
const fs = require("fs");
const path = require("path");
const { JSDOM } = require("jsdom");

const dom = new JSDOM("<!DOCTYPE html><html><body></body></html>");
// The renderer builds real DOM elements and reads the browser's globals (HTMLInputElement...).
global.window = dom.window;
for (const name of Object.getOwnPropertyNames(dom.window)) {
  if (name in global) continue;
  try {
    global[name] = dom.window[name];
  } catch (error) {
    // localStorage and the like refuse a page with no origin; the renderer does not use them.
  }
}
const AC = require("adaptivecards/dist/adaptivecards.js");

const hostConfig = new AC.HostConfig(JSON.parse(fs.readFileSync(path.join(
  __dirname, "node_modules", "adaptivecards-designer", "lib", "hostConfigs",
  "microsoft-teams-light.json"), "utf8")));

let logged = [];
AC.GlobalSettings.logLevel = AC.LogLevel.Info;
AC.GlobalSettings.onLogEvent = (level, message) => logged.push({ level, message: String(message) });

// A hint or a deprecation is what the designer shows as a warning; anything else stops a card.
const WARNING_EVENTS = new Set([AC.ValidationEvent.Hint, AC.ValidationEvent.Deprecated]);

function check(json) {
  logged = [];
  const errors = [];
  const warnings = [];
  const describe = (e) => `${AC.ValidationEvent[e.event]}: ${e.message}`;
  try {
    const card = new AC.AdaptiveCard();
    card.hostConfig = hostConfig;
    const context = new AC.SerializationContext();
    card.parse(json, context);
    for (let i = 0; i < context.eventCount; i++) {
      const e = context.getEventAt(i);
      (WARNING_EVENTS.has(e.event) ? warnings : errors).push("parse " + describe(e));
    }
    for (const e of card.validateProperties().validationEvents) {
      (WARNING_EVENTS.has(e.event) ? warnings : errors).push("validate " + describe(e));
    }
    const rendered = card.render();
    if (!rendered) errors.push("render: nothing rendered");
  } catch (error) {
    errors.push("exception: " + (error && error.stack || error));
  }
  for (const { level, message } of logged) {
    if (level === AC.LogLevel.Error) errors.push("log: " + message);
    else if (level === AC.LogLevel.Warning) warnings.push("log: " + message);
  }
  return { errors, warnings };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(JSON.stringify(JSON.parse(input).map(check)));
