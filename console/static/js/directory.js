// Whole lists of users and groups, for names in tables and member pickers.

import { api } from "./api.js";

const PAGE = 200;
const MAX_PAGES = 25; // 5,000 entries: past that, pickers need a search (see the report)

async function fetchAll(path) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const data = await api.get(path, { limit: PAGE, cursor });
    items.push(...data.items);
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** Return every user (id order). */
export function allUsers() {
  return fetchAll("/api/v1/users");
}

/** Return every group (id order). */
export function allGroups() {
  return fetchAll("/api/v1/groups");
}
