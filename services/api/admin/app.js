// readme admin console. Plain JavaScript, no build step: the api serves this file
// as it is. The admin token lives in sessionStorage (this tab only) and goes out
// as a Bearer header; it is never put in a URL. Everything shown from the api is
// set with textContent, never parsed as HTML.
'use strict';

const TOKEN_KEY = 'readme.adminToken';
const RECENT_KEY = 'readme.recentHouseholds';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const POLL_MS = 1500;
const CHUNKS_PER_PAGE = 10;
const BOOKS_PER_PAGE = 20;

const $ = (id) => document.getElementById(id);

/** Bumped on every navigation: a poll or load from an earlier view stops. */
let viewGeneration = 0;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token()}`, Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'The api cannot be reached. Check the connection and try again.');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const error = new ApiError(
      res.status,
      (data && data.error) || `http_${res.status}`,
      (data && data.message) || `The api answered ${res.status}.`,
    );
    if (res.status === 401) signOut('The token was refused or has expired. Sign in again.');
    throw error;
  }
  return data;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function announce(message) {
  const region = $('announce');
  region.textContent = '';
  // A fresh text node makes screen readers read it even when it repeats.
  window.setTimeout(() => { region.textContent = message; }, 50);
}

function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function badge(status) {
  return el('span', { class: `badge ${status}`, text: status });
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

// ---------- households the admin used recently (not secret: localStorage) ----------

function recentHouseholds() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) || '[]');
    return Array.isArray(list) ? list.filter((h) => UUID.test(h)) : [];
  } catch {
    return [];
  }
}

function rememberHousehold(id) {
  const list = [id, ...recentHouseholds().filter((h) => h !== id)].slice(0, 10);
  localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  fillRecent();
}

function fillRecent() {
  const list = $('recent-households');
  list.replaceChildren(...recentHouseholds().map((h) => el('option', { value: h })));
  const last = recentHouseholds()[0] || '';
  for (const id of ['upload-household', 'library-household']) {
    if (!$(id).value) $(id).value = last;
  }
}

// ---------- views ----------

function show(name, title) {
  viewGeneration += 1;
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== `view-${name}`;
  $('nav').hidden = name === 'signin';
  const section = name === 'book' ? 'library' : name;
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${title} · readme admin`;
  const heading = document.querySelector(`#view-${name} h1`);
  if (heading) heading.focus();
  return viewGeneration;
}

function route() {
  if (!token()) {
    show('signin', 'Sign in');
    $('token').focus();
    return;
  }
  const match = (location.hash || '').match(/^#\/([a-z]+)(?:\/([^/?#]+))?$/);
  const [section, arg] = match ? [match[1], match[2] && decodeURIComponent(match[2])] : [];
  switch (section) {
    case 'upload': showUpload(); break;
    case 'library': showLibrary(arg); break;
    case 'book': showBook(arg); break;
    case 'jobs': showJobs(arg); break;
    default: location.replace('#/upload');
  }
}

// ---------- sign in / out ----------

async function signIn(event) {
  event.preventDefault();
  const value = $('token').value.trim();
  $('signin-error').textContent = '';
  if (!value) {
    $('signin-error').textContent = 'Enter the admin token.';
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, value);
  try {
    await api('GET', '/admin/jobs?status=dead&limit=1');
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('signin-error').textContent = error.status === 401 || error.status === 403
      ? 'That token was refused: it is not the admin token.'
      : error.message;
    $('token').focus();
    return;
  }
  $('token').value = '';
  announce('Signed in.');
  if (!location.hash || location.hash === '#/signin') location.hash = '#/upload';
  else route();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  show('signin', 'Sign in');
  $('signin-error').textContent = message || '';
  $('token').focus();
}

// ---------- upload ----------

function showUpload() {
  show('upload', 'Upload');
  fillRecent();
}

function uploadRow(file) {
  const link = el('a', { hidden: true, text: 'Open the book' });
  const progress = el('progress', { max: 100, value: 0, 'aria-label': `Upload of ${file.name}` });
  const state = el('p', { class: 'state', text: 'Waiting to upload…' });
  const item = el('li', {}, el('span', { class: 'name', text: file.name }), progress, state, link);
  $('uploads').prepend(item);
  $('uploads-empty').hidden = true;
  return {
    progress,
    setState(text, kind) {
      state.textContent = text;
      state.className = `state ${kind || ''}`;
    },
    link(bookId) {
      link.href = `#/book/${bookId}`;
      link.hidden = false;
    },
  };
}

function sendFile(file, household, language, row) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('household_id', household);
    if (language) form.append('language', language);
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/admin/books/upload');
    xhr.setRequestHeader('Authorization', `Bearer ${token()}`);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (event) => {
      if (!event.lengthComputable) return;
      row.progress.max = event.total;
      row.progress.value = event.loaded;
      row.setState(`Uploading: ${Math.floor((event.loaded / event.total) * 100)}%`);
    });
    xhr.addEventListener('load', () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300 && body && body.book_id) {
        resolve(body);
      } else {
        if (xhr.status === 401) signOut('The token was refused or has expired. Sign in again.');
        reject(new ApiError(xhr.status, body && body.error, (body && body.message) || `The upload failed (${xhr.status}).`));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', 'The upload was cut off: the api cannot be reached.')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'The upload was stopped.')));
    xhr.send(form);
  });
}

function describeStatus(book) {
  if (book.status === 'ready') {
    const parts = [plural(book.page_count ?? 0, 'page', 'pages'), plural(book.chunk_count ?? 0, 'chunk', 'chunks')];
    if (book.text_engine) parts.push(`read with ${book.text_engine}`);
    return [`Ready: ${parts.join(', ')}.`, 'ready'];
  }
  if (book.status === 'failed') {
    const error = book.error || {};
    return [`Failed: ${error.code || 'unknown'} — ${error.message || 'no message'}`, 'failed'];
  }
  if (book.latest_job_status === 'dead') {
    return ['Stuck: its job ran out of attempts. Retry it from Jobs.', 'failed'];
  }
  const progress = book.progress;
  if (progress && progress.pages_total) {
    return [`Processing: page ${progress.pages_done} of ${progress.pages_total}…`, ''];
  }
  return ['Processing: waiting for a worker…', ''];
}

async function followBook(bookId, row) {
  // Uploads keep being followed when the admin looks at another view.
  for (;;) {
    let book;
    try {
      book = await api('GET', `/books/${bookId}/status`);
    } catch (error) {
      if (error.status === 401) return;
      row.setState(`Status unknown: ${error.message} Retrying…`);
      await sleep(POLL_MS * 2);
      continue;
    }
    const [text, kind] = describeStatus(book);
    row.setState(text, kind);
    if (book.status !== 'processing') {
      announce(`${book.title}: ${text}`);
      return;
    }
    await sleep(POLL_MS);
  }
}

function sleep(ms) {
  return new Promise((resolve) => { window.setTimeout(resolve, ms); });
}

async function upload(event) {
  event.preventDefault();
  const household = $('upload-household').value.trim();
  const files = Array.from($('upload-files').files);
  const language = $('upload-language').value;
  $('upload-error').textContent = '';
  $('upload-household').dataset.touched = '';
  if (!UUID.test(household)) {
    $('upload-error').textContent = 'The household id must be a UUID, such as 11111111-2222-3333-4444-555555555555.';
    $('upload-household').focus();
    return;
  }
  if (files.length === 0) {
    $('upload-error').textContent = 'Choose one or more PDF or EPUB files.';
    $('upload-files').focus();
    return;
  }
  rememberHousehold(household);
  const rows = files.map((file) => [file, uploadRow(file)]);
  $('upload-files').value = '';
  announce(`Uploading ${plural(files.length, 'file', 'files')}.`);
  // One at a time: each file gets the whole line, and a failure stops nothing else.
  for (const [file, row] of rows) {
    row.setState('Uploading: 0%');
    try {
      const answer = await sendFile(file, household, language, row);
      row.progress.value = row.progress.max;
      row.link(answer.book_id);
      row.setState(answer.deduplicated ? 'Already in the library (the same file).' : 'Uploaded. Processing…');
      followBook(answer.book_id, row);
    } catch (error) {
      row.setState(`Not uploaded: ${error.message}`, 'failed');
      if (error.status === 401) return;
    }
  }
}

// ---------- library ----------

const library = { household: null, cursor: null, next: null };

function showLibrary(household) {
  const generation = show('library', 'Library');
  fillRecent();
  $('library-error').textContent = '';
  if (!household) {
    $('library-result').hidden = true;
    return;
  }
  $('library-household').value = household;
  if (library.household !== household) {
    library.household = household;
    library.cursor = null;
  }
  loadLibrary(generation);
}

async function loadLibrary(generation) {
  const { household, cursor } = library;
  if (!UUID.test(household)) {
    $('library-error').textContent = 'The household id must be a UUID.';
    return;
  }
  const query = new URLSearchParams({ limit: String(BOOKS_PER_PAGE) });
  if (cursor) query.set('cursor', cursor);
  // The rows shown are the last load's until this one answers: say so.
  $('library-result').setAttribute('aria-busy', 'true');
  let page;
  try {
    page = await api('GET', `/households/${household}/books?${query}`);
  } catch (error) {
    if (generation === viewGeneration) {
      $('library-error').textContent = error.message;
      $('library-result').setAttribute('aria-busy', 'false');
    }
    return;
  }
  if (generation !== viewGeneration) return;
  rememberHousehold(household);
  library.next = page.next_cursor;
  const rows = page.books.map((book) => el('tr', {},
    el('td', { 'data-label': 'Title' }, el('a', { href: `#/book/${book.book_id}`, text: book.title })),
    el('td', { 'data-label': 'Status' }, badge(book.status),
      book.status === 'processing' && book.latest_job_status === 'dead' ? el('span', {}, ' ', badge('dead')) : null),
    el('td', { 'data-label': 'Pages', text: book.page_count ?? '—' }),
    el('td', { 'data-label': 'Chunks', text: book.chunk_count ?? '—' }),
    el('td', {
      'data-label': 'Listened',
      text: book.reading_position ? `${Math.round(book.reading_position.fraction * 100)}% (chunk ${book.reading_position.ordinal})` : '—',
    }),
    el('td', { 'data-label': 'Uploaded', text: when(book.created_at) }),
  ));
  if (rows.length === 0) {
    rows.push(el('tr', {}, el('td', { colspan: 6, text: cursor ? 'No more books.' : 'This household has no books yet.' })));
  }
  $('library-rows').replaceChildren(...rows);
  $('library-caption').textContent = `Books of household ${household}, newest first${cursor ? ' (a later page)' : ''}`;
  $('library-result').hidden = false;
  $('library-result').setAttribute('aria-busy', 'false');
  $('library-next').hidden = !page.next_cursor;
  $('library-first').hidden = !cursor;
}

// ---------- one book ----------

const bookView = { id: null, book: null, after: null, history: [], nextAfter: null };

async function showBook(id) {
  const generation = show('book', 'Book');
  $('book-error').textContent = '';
  $('book-facts').replaceChildren();
  $('chapters').replaceChildren();
  $('chunks').replaceChildren();
  $('book-title').textContent = 'Book';
  if (!id || !UUID.test(id)) {
    $('book-error').textContent = 'That is not a book id.';
    return;
  }
  Object.assign(bookView, { id, book: null, after: null, history: [], nextAfter: null });
  $('chunks-from').value = '0';
  const book = await loadBook(generation);
  if (!book) return;
  // The heading took the focus on navigation; take it back only if it was lost
  // (never from a control the admin has moved to meanwhile).
  if (document.activeElement === document.body) $('book-title').focus();
  await Promise.all([loadChapters(generation), loadChunks(generation)]);
  if (book.status === 'processing') watchBook(generation);
}

async function loadBook(generation) {
  let book;
  try {
    book = await api('GET', `/books/${bookView.id}/status`);
  } catch (error) {
    if (generation === viewGeneration) {
      $('book-error').textContent = error.status === 404 ? 'No such book: it may have been deleted.' : error.message;
      $('book-reprocess').disabled = true;
      $('book-delete').disabled = true;
    }
    return null;
  }
  if (generation !== viewGeneration) return null;
  bookView.book = book;
  $('book-title').textContent = book.title;
  document.title = `${book.title} · readme admin`;
  $('book-back').href = `#/library/${book.household_id}`;
  const [statusText] = describeStatus(book);
  const facts = [
    ['Status', el('span', {}, badge(book.status), ' ', statusText)],
    ['Household', el('a', { href: `#/library/${book.household_id}`, text: book.household_id })],
    ['Pages', book.page_count ?? '—'],
    ['Chunks', book.chunk_count ?? '—'],
    ['Text read with', book.text_engine || '—'],
    ['Language', book.language || '—'],
    ['File', `${bytes(book.byte_size)}, SHA-256 ${book.content_sha256.slice(0, 12)}…`],
    ['Uploaded', when(book.created_at)],
    ['Ready since', when(book.ready_at)],
    ['Listened', book.reading_position
      ? `${Math.round(book.reading_position.fraction * 100)}%: chunk ${book.reading_position.ordinal}, saved ${when(book.reading_position.saved_at)}`
      : 'Not yet'],
  ];
  if (book.latest_job_id) facts.push(['Latest job', book.latest_job_id]);
  $('book-facts').replaceChildren(...facts.flatMap(([term, value]) => [
    el('dt', { text: term }),
    el('dd', {}, value),
  ]));
  $('book-reprocess').disabled = book.status === 'processing';
  $('book-delete').disabled = false;
  return book;
}

async function watchBook(generation) {
  while (generation === viewGeneration) {
    await sleep(POLL_MS);
    if (generation !== viewGeneration) return;
    const book = await loadBook(generation);
    if (!book || book.status !== 'processing') {
      if (book) {
        announce(`${book.title} is ${book.status}.`);
        await Promise.all([loadChapters(generation), loadChunks(generation)]);
      }
      return;
    }
  }
}

async function loadChapters(generation) {
  let list;
  try {
    list = await api('GET', `/books/${bookView.id}/chapters`);
  } catch (error) {
    if (generation === viewGeneration) $('book-error').textContent = error.message;
    return;
  }
  if (generation !== viewGeneration) return;
  $('chapters-empty').hidden = list.chapters.length > 0;
  $('chapters-empty').textContent = bookView.book && bookView.book.status !== 'ready' && !bookView.book.chunk_count
    ? 'Chapters appear once the book is ready.'
    : 'No chapters: the book has no outline or headings to go by.';
  $('chapters').replaceChildren(...list.chapters.map((chapter) => el('li', {},
    el('span', { text: chapter.title }),
    el('span', { class: 'help', text: ` — page ${chapter.page}, chunk ${chapter.ordinal}` }),
    el('button', {
      type: 'button',
      class: 'quiet',
      text: 'Show',
      'aria-label': `Show the chunks of ${chapter.title}`,
      onclick: () => jumpTo(chapter.ordinal),
    }),
  )));
}

function jumpTo(ordinal) {
  $('chunks-from').value = String(ordinal);
  bookView.history = [];
  bookView.after = ordinal - 1;
  loadChunks(viewGeneration, true);
}

async function loadChunks(generation, focus) {
  const kind = $('chunks-kind').value;
  const query = new URLSearchParams({ kind, limit: String(CHUNKS_PER_PAGE) });
  if (bookView.after !== null && bookView.after >= 0) query.set('after', String(bookView.after));
  let page;
  try {
    page = await api('GET', `/books/${bookView.id}/chunks?${query}`);
  } catch (error) {
    if (generation === viewGeneration) $('book-error').textContent = error.message;
    return;
  }
  if (generation !== viewGeneration) return;
  bookView.nextAfter = page.next_after;
  const items = page.chunks.map((chunk) => {
    const pages = chunk.page_start === chunk.page_end ? `page ${chunk.page_start}` : `pages ${chunk.page_start}–${chunk.page_end}`;
    const meta = el('p', { class: 'meta' },
      el('strong', { text: `#${chunk.ordinal}` }),
      ` · ${chunk.kind.replace('_', ' ')} · ${pages}`,
      chunk.chapter ? ` · ${chunk.chapter}` : '',
      chunk.ocr ? ' · OCR' : '',
      ` · ${plural(chunk.sentences.length, 'sentence', 'sentences')}`);
    return el('li', { class: `kind-${chunk.kind}` }, meta, el('p', { class: 'text', text: chunk.text }));
  });
  if (items.length === 0) {
    items.push(el('li', {}, el('p', { class: 'help', text: 'No chunks here: the book is not ready, or this is past its end.' })));
  }
  $('chunks').replaceChildren(...items);
  $('chunks-next').hidden = page.next_after === null;
  $('chunks-prev').hidden = bookView.history.length === 0;
  if (focus) {
    announce(page.chunks.length ? `Showing chunks ${page.chunks[0].ordinal} to ${page.chunks[page.chunks.length - 1].ordinal}.` : 'No chunks here.');
    $('chunks-title').setAttribute('tabindex', '-1');
    $('chunks-title').focus();
  }
}

async function reprocess() {
  const book = bookView.book;
  if (!book) return;
  $('book-error').textContent = '';
  $('book-reprocess').disabled = true;
  try {
    await api('POST', `/admin/books/${book.book_id}/reprocess`);
  } catch (error) {
    $('book-error').textContent = error.message;
    $('book-reprocess').disabled = false;
    return;
  }
  announce(`${book.title} is queued to be processed again. Its current chunks stay until then.`);
  const generation = viewGeneration;
  await loadBook(generation);
  watchBook(generation);
}

function confirmDelete() {
  const book = bookView.book;
  if (!book) return;
  const dialog = $('confirm');
  $('confirm-title').textContent = `Delete “${book.title}”?`;
  $('confirm-text').textContent = `Its file, its ${plural(book.chunk_count ?? 0, 'chunk', 'chunks')}, its jobs and every listener's reading position are removed. This cannot be undone.`;
  $('confirm-ok').textContent = `Delete “${book.title}”`;
  dialog.returnValue = '';
  dialog.showModal();
}

async function confirmed() {
  const dialog = $('confirm');
  if (dialog.returnValue !== 'confirm') {
    $('book-delete').focus();
    return;
  }
  const book = bookView.book;
  try {
    await api('DELETE', `/admin/books/${book.book_id}`);
  } catch (error) {
    $('book-error').textContent = error.message;
    return;
  }
  announce(`Deleted “${book.title}”.`);
  location.hash = `#/library/${book.household_id}`;
}

// ---------- jobs ----------

async function showJobs(status) {
  const wanted = status === 'failed' ? 'failed' : 'dead';
  const generation = show('jobs', 'Jobs');
  $('jobs-status').value = wanted;
  $('jobs-error').textContent = '';
  let list;
  try {
    list = await api('GET', `/admin/jobs?status=${wanted}&limit=50`);
  } catch (error) {
    if (generation === viewGeneration) $('jobs-error').textContent = error.message;
    return;
  }
  if (generation !== viewGeneration) return;
  const titles = await Promise.all(list.jobs.map((job) => api('GET', `/books/${job.book_id}/status`)
    .then((book) => book.title)
    .catch(() => null)));
  if (generation !== viewGeneration) return;
  const rows = list.jobs.map((job, i) => jobRow(job, titles[i]));
  $('jobs-rows').replaceChildren(...rows.map((r) => r.row));
  $('jobs-caption').textContent = `${plural(list.jobs.length, 'job', 'jobs')} ${wanted}, newest first${list.next_cursor ? ' (the first 50)' : ''}`;
  $('jobs-table').hidden = rows.length === 0;
  $('jobs-empty').hidden = rows.length > 0;
  $('jobs-empty').textContent = `No ${wanted} jobs.`;
  $('jobs-retry-all').hidden = rows.length === 0;
  $('jobs-retry-all').onclick = async () => {
    $('jobs-retry-all').disabled = true;
    let done = 0;
    for (const r of rows) {
      if (!r.retried() && await r.retry()) done += 1;
    }
    $('jobs-retry-all').disabled = false;
    announce(`${plural(done, 'job', 'jobs')} queued again.`);
  };
}

function jobRow(job, title) {
  let retried = false;
  const statusCell = el('td', { 'data-label': 'Status' }, badge(job.status));
  const button = el('button', {
    type: 'button',
    text: 'Retry',
    'aria-label': `Retry ${title || 'the job of book ' + job.book_id}`,
  });
  const note = el('span', { class: 'error', role: 'alert' });
  async function retry() {
    button.disabled = true;
    try {
      const answer = await api('POST', `/admin/jobs/${job.job_id}/retry`);
      statusCell.replaceChildren(badge(answer.status || 'queued'));
      button.textContent = 'Queued';
      button.setAttribute('aria-label', `Queued: ${title || 'the job of book ' + job.book_id}`);
      retried = true;
      return true;
    } catch (error) {
      note.textContent = ` ${error.message}`;
      button.disabled = false;
      return false;
    }
  }
  button.addEventListener('click', async () => {
    if (await retry()) announce(`${title || 'The job'} is queued again.`);
  });
  const row = el('tr', {},
    el('td', { 'data-label': 'Book' }, el('a', { href: `#/book/${job.book_id}`, text: title || job.book_id })),
    statusCell,
    el('td', { 'data-label': 'Attempts', text: `${job.attempts} of ${job.max_attempts}` }),
    el('td', { 'data-label': 'Last error', class: 'error-text', text: job.last_error || '—' }),
    el('td', { 'data-label': 'Finished', text: when(job.finished_at) }),
    el('td', {}, button, note),
  );
  return { row, retry, retried: () => retried };
}

// ---------- wiring ----------

function wire() {
  $('signin-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', () => {
    signOut('');
    announce('Signed out.');
    history.replaceState(null, '', '#/signin');
  });
  $('upload-form').addEventListener('submit', upload);
  $('library-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const household = $('library-household').value.trim();
    if (!UUID.test(household)) {
      $('library-error').textContent = 'The household id must be a UUID.';
      $('library-household').focus();
      return;
    }
    library.cursor = null;
    library.household = null;
    if (location.hash === `#/library/${household}`) showLibrary(household);
    else location.hash = `#/library/${household}`;
  });
  $('library-next').addEventListener('click', () => {
    library.cursor = library.next;
    loadLibrary(viewGeneration);
    $('library-title').focus();
  });
  $('library-first').addEventListener('click', () => {
    library.cursor = null;
    loadLibrary(viewGeneration);
    $('library-title').focus();
  });
  $('book-reprocess').addEventListener('click', reprocess);
  $('book-delete').addEventListener('click', confirmDelete);
  $('confirm').addEventListener('close', confirmed);
  $('chunks-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const from = Number.parseInt($('chunks-from').value, 10);
    jumpTo(Number.isFinite(from) && from > 0 ? from : 0);
  });
  $('chunks-next').addEventListener('click', () => {
    bookView.history.push(bookView.after);
    bookView.after = bookView.nextAfter;
    loadChunks(viewGeneration, true);
  });
  $('chunks-prev').addEventListener('click', () => {
    bookView.after = bookView.history.pop() ?? null;
    loadChunks(viewGeneration, true);
  });
  $('jobs-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const status = $('jobs-status').value;
    if (location.hash === `#/jobs/${status}`) showJobs(status);
    else location.hash = `#/jobs/${status}`;
  });
  window.addEventListener('hashchange', route);
  route();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire);
else wire();
