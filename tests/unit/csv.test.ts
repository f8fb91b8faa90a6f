import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { csvCell, csvRows } from "@/lib/util/csv";

describe("CSV cells", () => {
  it("quote what would break a row and keep every value as written", () => {
    const values = ["plain", 'say "hi"', "a,b", "line\nbreak", "carriage\rreturn", "é 😀", "", "  spaced  "];
    const text = csvRows([values, ["x", null, undefined, "y", "z", "1", "2", "3"]]);
    expect(parse(text, { relax_column_count: false })).toEqual([values, ["x", "", "", "y", "z", "1", "2", "3"]]);
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("carriage\rreturn")).toBe('"carriage\rreturn"');
  });

  it("turn what a spreadsheet would run as a formula into text", () => {
    for (const formula of ["=HYPERLINK(\"http://evil\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "＝1", "＋1", "－1", "＠x"]) {
      expect((parse(csvRows([[formula]])) as string[][])[0]![0], formula).toBe(`'${formula}`);
    }
    expect(csvCell("a=b")).toBe("a=b");
  });
});
