/**
 * Office files for the tests, made by the libraries that write them: exceljs for
 * Excel, pptxgenjs for PowerPoint. pptxgenjs loads node:fs with a dynamic import, which Jest's VM
 * refuses, so the deck is built by a child Node process.
 */
import { execFileSync } from 'node:child_process';
import ExcelJS from 'exceljs';

/**
 * A sheet "Expenses" holding a table "Expenses" (Date, Item, Amount) with two rows, Taxi 12.50 on
 * 2026-11-02 and Lunch 20 on 2026-11-03, dates formatted yyyy-mm-dd: the Excel tests' tracker.
 */
export function expensesSheet(wb: ExcelJS.Workbook): ExcelJS.Worksheet {
  const ws = wb.addWorksheet('Expenses');
  ws.addTable({
    name: 'Expenses',
    ref: 'A1',
    headerRow: true,
    columns: [{ name: 'Date' }, { name: 'Item' }, { name: 'Amount' }],
    rows: [
      [new Date('2026-11-02T00:00:00Z'), 'Taxi', 12.5],
      [new Date('2026-11-03T00:00:00Z'), 'Lunch', 20],
    ],
  });
  ws.getColumn(1).numFmt = 'yyyy-mm-dd';
  return ws;
}

export async function budgetWorkbook(): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  const budget = wb.addWorksheet('Budget 2027');
  budget.addRow(['Item', 'Q1', 'Q2', 'Total']);
  budget.addRow(['Travel', 1200, 800, { formula: 'B2+C2', result: 2000 }]);
  budget.addRow(['Software | licences', 300.5, 0, { formula: 'B3+C3', result: 300.5 }]);
  const people = wb.addWorksheet('People');
  people.addRow(['Name', 'Starts']);
  people.addRow(['Megan', new Date(Date.UTC(2027, 0, 4))]);
  people.getCell('B2').numFmt = 'yyyy-mm-dd';
  people.getCell('A4').value = { richText: [{ text: 'Rich ' }, { text: 'text', font: { bold: true } }] };
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

const DECK_SCRIPT = `
const PptxGenJS = require('pptxgenjs');
const pptx = new PptxGenJS();
pptx.defineSlideMaster({
  title: 'TITLED',
  objects: [{ placeholder: { options: { name: 'title', type: 'title', x: 0.5, y: 0.3, w: 9, h: 1 }, text: '' } }],
});
const titles = JSON.parse(process.argv[1]);
titles.forEach((title, i) => {
  const slide = pptx.addSlide({ masterName: 'TITLED' });
  slide.addText(title, { placeholder: 'title' });
  slide.addText([{ text: 'Point one of slide ' + (i + 1), options: { breakLine: true } }, { text: 'Point two' }], { x: 0.5, y: 1.5, w: 9, h: 2 });
  if (i === 1) slide.addNotes('Say that the budget risk is covered.');
});
pptx.addSlide().addText('Thank you', { x: 1, y: 1, w: 8, h: 1 });
pptx.write({ outputType: 'nodebuffer' }).then((b) => process.stdout.write(b.toString('base64')));
`;

/** A deck: titled slides (the second with speaker notes), then an untitled "Thank you" slide. */
export function launchDeck(titles = ['Launch plan', 'Risks & mitigations', 'Next steps']): Uint8Array {
  const out = execFileSync(process.execPath, ['-e', DECK_SCRIPT, JSON.stringify(titles)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return new Uint8Array(Buffer.from(out, 'base64'));
}
