// Feature flags evaluated by the server for this user and page: the JSON object in the
// data-feature-flags attribute of <body> (no inline script, so a strict CSP still allows it).

let cached = null;

// Returns every flag as {key: true|false}; an absent or malformed attribute gives {}.
export function featureFlags(root = document.body) {
  if (cached !== null && root === document.body) return cached;
  let flags = {};
  try {
    const parsed = JSON.parse(root?.dataset.featureFlags || "{}");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) flags = parsed;
  } catch {
    flags = {};
  }
  if (root === document.body) cached = flags;
  return flags;
}

// Returns true only when the server turned the flag on for this user (unknown keys are off).
export function isEnabled(key, root = document.body) {
  return featureFlags(root)[key] === true;
}
