// aegisd's one script. Every page reads and works without it; with it, times show in
// the viewer's own time zone, copy buttons copy, deletions ask first, differing
// screenshots get a slider, and crawl and run pages follow their job live (EventSource
// on /crawls/:id/events and /runs/:id/events).
"use strict";

(() => {
  const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function localTimes(root) {
    for (const element of root.querySelectorAll("time[datetime]")) {
      const moment = new Date(element.getAttribute("datetime"));
      if (!Number.isNaN(moment.getTime())) element.textContent = dateTime.format(moment);
    }
  }

  function copyButtons(root) {
    for (const button of root.querySelectorAll("button[data-copy]")) {
      button.hidden = false;
      button.addEventListener("click", async () => {
        const text = button.dataset.copy;
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          // No clipboard API (plain http on another host): copy through a selection.
          const field = document.createElement("textarea");
          field.value = text;
          document.body.append(field);
          field.select();
          document.execCommand("copy");
          field.remove();
        }
        const label = button.textContent;
        button.textContent = "Copied";
        setTimeout(() => { button.textContent = label; }, 1500);
      });
    }
  }

  function confirmations(root) {
    for (const form of root.querySelectorAll("form[data-confirm]")) {
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    }
  }

  function comparisons(root) {
    // A differing screenshot: the three images side by side, or the expected and actual
    // ones stacked with a slider between them (the images alone without the script).
    for (const box of root.querySelectorAll("[data-compare]")) {
      const modes = box.querySelector(".visual-modes");
      const slider = box.querySelector('[data-view="slider"]');
      if (!modes || !slider) continue;
      const side = box.querySelector('[data-view="side"]');
      const stack = slider.querySelector(".visual-stack");
      const top = slider.querySelector(".visual-top");
      const handle = slider.querySelector(".visual-handle");
      const range = slider.querySelector('input[type="range"]');
      const place = () => {
        top.style.clipPath = `inset(0 0 0 ${range.value}%)`;
        handle.style.left = `${range.value}%`;
      };
      const follow = (event) => {
        const area = stack.getBoundingClientRect();
        range.value = String(Math.round(((event.clientX - area.left) / area.width) * 100));
        place();
      };
      range.addEventListener("input", place);
      stack.addEventListener("pointerdown", (event) => {
        stack.setPointerCapture(event.pointerId);
        follow(event);
      });
      stack.addEventListener("pointermove", (event) => {
        if (stack.hasPointerCapture(event.pointerId)) follow(event);
      });
      for (const button of modes.querySelectorAll("button[data-mode]")) {
        button.addEventListener("click", () => {
          const sliding = button.dataset.mode === "slider";
          slider.hidden = !sliding;
          side.hidden = sliding;
          for (const other of modes.querySelectorAll("button")) {
            other.setAttribute("aria-pressed", String(other === button));
          }
        });
      }
      modes.hidden = false;
    }
  }

  function setField(root, name, value) {
    for (const element of root.querySelectorAll(`[data-field="${name}"]`)) {
      if (element instanceof HTMLProgressElement) element.value = value;
      else element.textContent = String(value);
    }
  }

  const PHASES = { crawl_progress: "Crawling", ai_generation_progress: "Generating the suite" };

  function followCrawl(root, source) {
    source.addEventListener("crawl_progress", (event) => {
      const data = JSON.parse(event.data);
      if (data.pagesFound !== undefined) setField(root, "pagesFound", data.pagesFound);
      if (data.pagesCrawled !== undefined) {
        setField(root, "pagesCrawled", data.pagesCrawled);
        setField(root, "progress", data.pagesCrawled);
      }
      setField(root, "phase", `${PHASES.crawl_progress}…`);
    });
    source.addEventListener("ai_generation_progress", (event) => {
      const data = JSON.parse(event.data);
      setField(root, "phase", data.phase_label || PHASES.ai_generation_progress);
    });
  }

  function counts(root, data) {
    // A flaky case passed on a retry: the page counts it under both, as the run does.
    for (const name of ["passed", "failed", "skipped", "flaky", "total", "done"]) {
      if (data[name] !== undefined) setField(root, name, data[name]);
    }
    if (data.done !== undefined) setField(root, "progress", data.done);
  }

  function followRun(root, source) {
    source.addEventListener("run_progress", (event) => counts(root, JSON.parse(event.data)));
    source.addEventListener("case_finished", (event) => {
      const data = JSON.parse(event.data);
      counts(root, data);
      const list = root.querySelector('[data-field="cases"]');
      if (!list) return;
      const status = data.status === "passed" && data.flaky ? "flaky" : data.status;
      const item = document.createElement("li");
      const badge = document.createElement("span");
      badge.className = `badge s-${status}`;
      badge.textContent = status;
      const name = document.createElement("span");
      name.textContent = data.name;
      item.append(badge, name);
      list.prepend(item);
    });
  }

  function live(root) {
    for (const panel of root.querySelectorAll("[data-live]")) {
      if (!("EventSource" in window)) return;
      const source = new EventSource(panel.dataset.live);
      if (panel.dataset.liveKind === "crawl") followCrawl(panel, source);
      else followRun(panel, source);
      source.addEventListener("done", () => {
        source.close();
        // The finished page, with every result, is the server's to draw.
        window.location.reload();
      });
      source.addEventListener("error", () => {
        // Signed out or gone (the stream answered an error): stop; a reload says why.
        if (source.readyState === EventSource.CLOSED) panel.dataset.liveState = "closed";
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    localTimes(document);
    copyButtons(document);
    confirmations(document);
    comparisons(document);
    live(document);
  });
})();
