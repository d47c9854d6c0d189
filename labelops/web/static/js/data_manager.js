// Data manager niceties: select all on the page, a live selection count, and filters that apply
// when a select changes. The table and its paging work without this script.

const table = document.querySelector("[data-tasks]");
if (table) {
  const all = table.querySelector("[data-select-all]");
  const boxes = () => [...table.querySelectorAll('input[name="task"]')];
  const count = document.querySelector("[data-selection-count]");
  const button = document.querySelector("[data-delete-selected]");
  const refresh = () => {
    const selected = boxes().filter((b) => b.checked).length;
    if (count) count.textContent = selected ? `${selected} selected` : "";
    if (button) button.disabled = selected === 0;
    if (all) {
      all.checked = selected > 0 && selected === boxes().length;
      all.indeterminate = selected > 0 && selected < boxes().length;
    }
  };
  if (all)
    all.addEventListener("change", () => {
      for (const box of boxes()) box.checked = all.checked;
      refresh();
    });
  table.addEventListener("change", (event) => {
    if (event.target.name === "task") refresh();
  });
  refresh();
}

const filters = document.querySelector("[data-filters]");
if (filters) {
  for (const select of filters.querySelectorAll("select")) {
    select.addEventListener("change", () => filters.requestSubmit());
  }
}
