/** What a browser posts for a form with these fields (a list value repeats its field, as checkboxes do). */
export function formData(fields: Record<string, string | readonly string[]>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) data.append(name, v);
  return data;
}
