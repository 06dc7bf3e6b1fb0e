// The admin console in a real browser: Debian's Chromium, headless, driven by
// playwright-core, against a real api, worker, Postgres and Redis started by the
// Rust test that runs this script (services/worker/tests/worker/admin_console.rs).
//
// Input (environment): PLAYWRIGHT_CORE_MODULES, CHROMIUM_PATH, CONSOLE_URL (…/admin/),
// ADMIN_TOKEN, HOUSEHOLD, BOOK_PDF, BOOK_EPUB, BROKEN_PDF (a file that fails),
// DEAD_BOOK_ID and DEAD_BOOK_TITLE (a book whose job is dead), SCREENSHOTS (a folder).
// It drives the console as an admin would, mostly from the keyboard, saves a
// screenshot of each page, and prints one JSON line: {"ok": true, ...} or
// {"ok": false, "step": …, "error": …}. Any CSP violation or script error fails it.
"use strict";
const path = require("node:path");
const fs = require("node:fs");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const { chromium } = require(path.join(env("PLAYWRIGHT_CORE_MODULES"), "playwright-core"));

const TIMEOUT = 60_000;
let step = "start";
const shots = [];
const problems = [];

async function shot(page, name) {
  const file = path.join(env("SCREENSHOTS"), `${String(shots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function main() {
  fs.mkdirSync(env("SCREENSHOTS"), { recursive: true });
  const browser = await chromium.launch({
    executablePath: env("CHROMIUM_PATH"),
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    // A CSP violation is reported to the page as an event; collect them there.
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });

    step = "the console's headers";
    const response = await page.goto(env("CONSOLE_URL"));
    const csp = response.headers()["content-security-policy"] || "";
    expect(csp.includes("script-src 'self'") && !csp.includes("unsafe-inline"), `a strict CSP, not ${csp}`);

    step = "a wrong token is refused";
    await page.getByLabel("Admin token").focus();
    await page.keyboard.type("not-the-token");
    await page.keyboard.press("Enter");
    await page.getByText("That token was refused").waitFor();
    expect(await page.evaluate(() => sessionStorage.length) === 0, "a refused token is not kept");
    // The browser logs the refused request (401) itself; that one is expected.
    problems.length = 0;
    await shot(page, "sign-in-refused");

    step = "sign in from the keyboard";
    await page.getByLabel("Admin token").fill("");
    await page.keyboard.type(env("ADMIN_TOKEN"));
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Upload books" }).waitFor();
    const focused = async () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.textContent.trim()));
    expect(await focused() === "upload-title", `a new view puts the focus on its heading, not ${await focused()}`);
    expect(!page.url().includes(env("ADMIN_TOKEN")), "the token is never in the URL");
    expect(
      await page.evaluate(() => Object.keys(sessionStorage).includes("readme.adminToken")),
      "the token is kept in session storage",
    );
    expect(await page.evaluate(() => localStorage.getItem("readme.adminToken")) === null, "not in local storage");

    step = "upload three files and watch them settle";
    await page.locator("#upload-household").fill(env("HOUSEHOLD"));
    await page.getByLabel("PDF or EPUB files").setInputFiles([env("BOOK_PDF"), env("BOOK_EPUB"), env("BROKEN_PDF")]);
    await page.getByRole("button", { name: "Upload" }).click();
    const row = (file) => page.locator(".uploads li").filter({ hasText: path.basename(file) });
    for (const file of [env("BOOK_PDF"), env("BOOK_EPUB")]) {
      await row(file).locator(".state.ready").waitFor({ timeout: 120_000 });
      const progress = await row(file).locator("progress").evaluate((p) => p.value / p.max);
      expect(progress === 1, `the upload bar of ${file} is full`);
    }
    await row(env("BROKEN_PDF")).locator(".state.failed").waitFor({ timeout: 120_000 });
    const failure = await row(env("BROKEN_PDF")).locator(".state").textContent();
    expect(/Failed: encrypted_pdf/.test(failure), `the failed book says why: ${failure}`);
    const readyText = await row(env("BOOK_PDF")).locator(".state").textContent();
    expect(/Ready: \d+ pages, \d+ chunks/.test(readyText), `a ready book shows its counts: ${readyText}`);
    await shot(page, "uploads-settled");

    step = "open a ready book: chapters and chunks";
    await row(env("BOOK_PDF")).getByRole("link", { name: "Open the book" }).click();
    await page.locator("#book-facts").getByText("ready", { exact: true }).waitFor();
    await page.locator("#chunks li").first().waitFor();
    // The chapters arrive on their own request: wait for the list or its "none" line.
    await page.locator("#chapters li, #chapters-empty:not([hidden])").first().waitFor();
    const chapters = await page.locator("#chapters li").count();
    expect(chapters > 0, "the book's chapters are listed");
    const firstChunks = await page.locator("#chunks li .meta strong").allTextContents();
    expect(firstChunks[0] === "#0", `the preview starts at chunk 0: ${firstChunks}`);
    await shot(page, "book");
    await page.getByRole("button", { name: "Next chunks" }).click();
    await page.waitForFunction(() => document.querySelector("#chunks li .meta strong")?.textContent !== "#0");
    await page.getByRole("button", { name: "Previous chunks" }).click();
    await page.waitForFunction(() => document.querySelector("#chunks li .meta strong")?.textContent === "#0");
    // "Show" on the last chapter jumps the preview to its first chunk.
    const lastChapter = page.locator("#chapters li").last();
    const chapterLine = await lastChapter.textContent();
    const startsAt = Number(/chunk (\d+)/.exec(chapterLine)[1]);
    await lastChapter.getByRole("button").click();
    await page.waitForFunction((n) => document.querySelector("#chunks li .meta strong")?.textContent === `#${n}`, startsAt);
    const bookTitle = (await page.locator("#book-title").textContent()).trim();

    step = "the household's library";
    await page.getByRole("link", { name: "Library", exact: true }).click();
    await page.locator("#library-household").fill(env("HOUSEHOLD"));
    await page.getByRole("button", { name: "Show books" }).click();
    await page.locator('#library-result[aria-busy="false"]').waitFor();
    const titles = await page.locator("#library-rows td:first-child").allTextContents();
    expect(titles.includes(bookTitle) && titles.includes(env("DEAD_BOOK_TITLE")), `the library lists the books: ${titles}`);
    const stuck = page.locator("#library-rows tr").filter({ hasText: env("DEAD_BOOK_TITLE") });
    expect(await stuck.locator(".badge.dead").count() === 1, "a book whose job is dead says so");
    await shot(page, "library");

    step = "a failed book's page shows its error";
    const brokenTitle = path.basename(env("BROKEN_PDF"), ".pdf");
    await page.getByRole("link", { name: brokenTitle }).click();
    await page.locator("#book-facts").getByText("encrypted_pdf", { exact: false }).waitFor();
    await shot(page, "failed-book");

    step = "retry the dead job";
    await page.getByRole("link", { name: "Jobs" }).click();
    const deadRow = page.locator("#jobs-rows tr").filter({ hasText: env("DEAD_BOOK_TITLE") });
    await deadRow.waitFor();
    expect(/storage unavailable/.test(await deadRow.textContent()), "the dead job shows its last error");
    await shot(page, "dead-jobs");
    await deadRow.getByRole("button", { name: /Retry/ }).click();
    await deadRow.getByRole("button", { name: /^Queued/ }).waitFor();
    const badgeNow = await deadRow.locator(".badge").first().textContent();
    expect(["queued", "running", "succeeded"].includes(badgeNow), `the retried job is queued: ${await deadRow.innerHTML()}`);
    await page.getByRole("link", { name: env("DEAD_BOOK_TITLE") }).click();
    await page.locator("#book-facts").getByText("ready", { exact: true }).waitFor({ timeout: 120_000 });

    step = "delete a book, confirming by its name";
    await page.goto(`${env("CONSOLE_URL")}#/library/${env("HOUSEHOLD")}`);
    await page.getByRole("link", { name: bookTitle }).click();
    await page.locator("#book-facts").getByText("ready", { exact: true }).waitFor();
    // From the keyboard: Tab from Reprocess reaches Delete…, and Enter opens the confirmation.
    await page.getByRole("button", { name: "Reprocess" }).focus();
    await page.keyboard.press("Tab");
    expect(await focused() === "book-delete", `Tab reaches Delete…, not ${await focused()}`);
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    expect((await dialog.textContent()).includes(bookTitle), "the confirmation names the book");
    await shot(page, "delete-confirmation");
    // Escape cancels; nothing is deleted.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await focused() === "book-delete", "cancelling returns the focus to Delete…");
    await page.getByRole("button", { name: "Delete…" }).click();
    await dialog.getByRole("button", { name: `Delete “${bookTitle}”` }).click();
    await page.getByRole("heading", { name: "Library" }).waitFor();
    // The rows of the earlier visit stay on screen, marked busy, until the new load.
    await page.locator('#library-result[aria-busy="false"]').waitFor();
    const after = await page.locator("#library-rows td:first-child").allTextContents();
    expect(!after.includes(bookTitle), `the deleted book is gone: ${after}`);

    step = "readable on a phone";
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.locator('#library-result[aria-busy="false"]').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow <= 0, `no sideways scrolling on a phone (${overflow}px too wide)`);
    await shot(page, "phone-library");

    step = "sign out";
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length) === 0, "signing out forgets the token");

    const violations = await page.evaluate(() => window.__violations);
    expect(violations.length === 0, `CSP violations: ${violations}`);
    expect(problems.length === 0, problems.join("; "));
    console.log(JSON.stringify({ ok: true, screenshots: shots, deleted: bookTitle }));
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.log(JSON.stringify({ ok: false, step, error: String(error && error.stack || error), problems, screenshots: shots }));
  process.exitCode = 1;
});
