// CSV import of machines: validate first (nothing written), show every bad row with its line, field and message,
// let the operator fix those rows in place (or in the text) and validate again; import only a validated text.
import { api, ApiError } from './api.js';
import { h, clear, toast } from './dom.js';

// Splits one CSV line into fields (double quotes, "" escapes). For the preview only: the server parses for real.
export function splitCsvLine(line) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { fields.push(field); field = ''; }
    else field += c;
  }
  fields.push(field);
  return fields;
}

export function joinCsvLine(fields) {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}

const PREVIEW_ROWS = 10;

// onImported(count) runs after a successful import.
export function createImportPanel(onImported) {
  const text = h('textarea', {
    id: 'csv-text', rows: 10, spellcheck: false, testid: 'csv-text',
    placeholder: 'name,mac,image,group,persistent,hostname,ip\npc-001,52:54:00:00:00:01,win11,lab,false,desk-001,10.0.0.21',
  });
  const file = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv', testid: 'csv-file' });
  const validate = h('button', { type: 'button', testid: 'csv-validate' }, 'Validate');
  const importButton = h('button', { type: 'button', class: 'primary', disabled: true, testid: 'csv-import' }, 'Import');
  const summary = h('p', { class: 'summary', role: 'status', testid: 'csv-summary' });
  const problems = h('div', { testid: 'csv-errors' });
  const preview = h('div', { testid: 'csv-preview' });
  let validatedText = null;

  const lines = () => text.value.split(/\r?\n/);

  function textChanged() {
    if (text.value !== validatedText) importButton.disabled = true;
  }

  function setLine(lineNumber, fields) {
    const all = lines();
    all[lineNumber - 1] = joinCsvLine(fields);
    text.value = all.join('\n');
    textChanged();
  }

  function renderPreview(badLines) {
    const all = lines();
    const header = splitCsvLine(all[0] || '');
    const rows = [];
    for (let n = 2; n <= all.length; n += 1) {
      if (!all[n - 1].trim()) continue;
      if (rows.length < PREVIEW_ROWS || badLines.has(n)) rows.push(n);
    }
    const dataRows = all.slice(1).filter((l) => l.trim()).length;
    clear(preview,
      h('h3', {}, `Preview: ${dataRows} row(s)`, badLines.size ? `, ${badLines.size} with errors (editable below)` : ''),
      h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Line'), header.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows.map((n, i) => [
          i > 0 && n > rows[i - 1] + 1 ? h('tr', { class: 'gap' }, h('td', { colspan: header.length + 1 }, '…')) : null,
          previewRow(n, header, badLines.get(n)),
        ]))));
  }

  function previewRow(n, header, rowProblems) {
    const fields = splitCsvLine(lines()[n - 1]);
    while (fields.length < header.length) fields.push('');
    if (!rowProblems) {
      return h('tr', {}, h('td', {}, n), fields.map((f) => h('td', {}, f)));
    }
    const badFields = new Set(rowProblems.map((p) => p.field));
    return h('tr', { class: 'bad', testid: `csv-row-${n}` }, h('td', {}, n),
      fields.map((value, column) => {
        const name = header[column] || `column ${column + 1}`;
        const input = h('input', {
          value, 'aria-label': `Line ${n} ${name}`, class: badFields.has(name) ? 'invalid' : '',
          testid: `csv-cell-${n}-${name}`,
          oninput: () => { fields[column] = input.value; setLine(n, fields); },
        });
        return h('td', {}, input);
      }));
  }

  async function runValidation() {
    validate.disabled = true;
    importButton.disabled = true;
    summary.className = 'summary';
    summary.textContent = 'Validating…';
    const candidate = text.value;
    try {
      const result = await api.importCsv(candidate, true);
      validatedText = candidate;
      importButton.disabled = false;
      summary.className = 'summary ok';
      summary.textContent = `${result.rows} row(s) valid: ready to import.`;
      problems.replaceChildren();
      renderPreview(new Map());
    } catch (error) {
      validatedText = null;
      summary.className = 'summary error';
      if (!(error instanceof ApiError) || !Array.isArray(error.body.errors)) {
        summary.textContent = `Validation failed: ${error.message}`;
        return;
      }
      const list = error.body.errors;
      summary.textContent = `${list.length} problem(s) found; nothing was imported. Fix the rows and validate again.`;
      const byLine = new Map();
      for (const p of list) {
        if (!byLine.has(p.line)) byLine.set(p.line, []);
        byLine.get(p.line).push(p);
      }
      clear(problems, h('table', { class: 'table compact errors', testid: 'csv-error-table' },
        h('thead', {}, h('tr', {}, ['Line', 'Field', 'Problem'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, list.map((p) => h('tr', { testid: 'csv-error' },
          h('td', {}, p.line), h('td', {}, p.field || ''), h('td', {}, p.message))))));
      renderPreview(byLine);
    } finally {
      validate.disabled = false;
    }
  }

  async function runImport() {
    if (text.value !== validatedText) return;
    importButton.disabled = true;
    summary.textContent = 'Importing…';
    try {
      const result = await api.importCsv(text.value, false);
      summary.className = 'summary ok';
      summary.textContent = `Imported ${result.imported} machine(s).`;
      toast(`Imported ${result.imported} machine(s)`, 'success');
      validatedText = null;
      onImported(result.imported);
    } catch (error) {
      summary.className = 'summary error';
      summary.textContent = `Import refused: ${error.message}. Validate again to see the rows at fault.`;
    }
  }

  text.addEventListener('input', textChanged);
  file.addEventListener('change', async () => {
    if (!file.files.length) return;
    text.value = await file.files[0].text();
    textChanged();
    runValidation();
  });
  validate.addEventListener('click', runValidation);
  importButton.addEventListener('click', runImport);

  return h('section', { class: 'card import', testid: 'csv-panel', 'aria-labelledby': 'csv-title' },
    h('h2', { id: 'csv-title' }, 'Import machines from CSV'),
    h('p', { class: 'hint' }, 'Columns: name, mac, image, group, persistent, hostname, ip (with a header row; only name and mac are required). ',
      'Validation writes nothing; the import takes all rows or none.'),
    h('div', { class: 'row' }, h('label', { for: 'csv-file' }, 'CSV file'), file),
    h('label', { for: 'csv-text' }, 'CSV text'), text,
    h('div', { class: 'actions' }, validate, importButton),
    summary, problems, preview);
}
