// Parse an .ics file with ical.js (the parser of Thunderbird and many web calendars) and
// print what it understood as JSON. Exit 1 on any parse error.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const component = new ICAL.Component(ICAL.parse(text));
const events = component.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  const occurrences = [];
  if (event.isRecurring()) {
    const iterator = event.iterator();
    for (let i = 0; i < 3; i++) {
      const next = iterator.next();
      if (!next) break;
      occurrences.push(next.toString());
    }
  }
  return {
    uid: event.uid,
    summary: event.summary,
    start: event.startDate.toString(),
    end: event.endDate.toString(),
    isDate: event.startDate.isDate,
    description: event.description,
    occurrences,
  };
});
console.log(JSON.stringify({
  name: component.getFirstPropertyValue("x-wr-calname"),
  refresh: String(component.getFirstPropertyValue("refresh-interval")),
  events,
}));
