/* Images: the chunked, resumable upload with its progress bar, and confirmations.
 *
 * The create form is first sent WITHOUT the file (its name and size instead): the portal
 * checks every field and answers 201 with the upload's URLs, or 400 with the form and its
 * errors (the chosen file is put back). Then the file goes in chunks, each a POST of raw bytes
 * with `X-Upload-Offset`; after a dropped connection the script asks the portal how much it
 * has and continues from there. Without JavaScript the form posts the file in one request.
 */
(function () {
  "use strict";

  function csrfToken(root) {
    var input = (root || document).querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function humanSize(bytes) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return (i ? bytes.toFixed(1) : String(bytes)) + " " + units[i];
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] !== undefined ? values[key] : "";
    });
  }

  function messages() {
    var t = document.getElementById("upload-messages");
    return t ? t.dataset : {};
  }

  // --- the progress bar ---------------------------------------------------------------------

  function Progress(root) {
    this.box = root.querySelector("#upload-progress");
    this.bar = this.box.querySelector(".progress-bar");
    this.meter = this.box.querySelector('[role="progressbar"]');
    this.status = this.box.querySelector("[data-upload-status]");
    this.note = this.box.querySelector("[data-upload-note]");
  }
  Progress.prototype.show = function () { this.box.hidden = false; };
  Progress.prototype.set = function (sent, size, text) {
    var percent = size ? Math.floor((sent * 100) / size) : 100;
    this.bar.style.width = percent + "%";
    this.bar.textContent = percent + "%";
    this.meter.setAttribute("aria-valuenow", String(percent));
    if (text) this.status.textContent = text;
  };
  // A line that stays under the bar while the chunks go on (the status line changes with each).
  Progress.prototype.notice = function (text) {
    if (!this.note) return;
    this.note.textContent = text;
    this.note.hidden = false;
  };
  Progress.prototype.say = function (text, failed) {
    this.status.textContent = text;
    if (failed) {
      this.bar.classList.remove("progress-bar-animated", "progress-bar-striped");
      this.bar.classList.add("bg-danger");
    }
  };

  // --- sending chunks -------------------------------------------------------------------------

  async function askState(state) {
    var response = await fetch(state.status_url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error("status " + response.status);
    return response.json();
  }

  // Where to send from next, as the portal says. Back to 0 from further on means the upload
  // started over (the cloud needs the file again and the portal no longer keeps what it had
  // sent): say so, the bar goes back.
  function goTo(received, offset, size, progress, text) {
    if (received === 0 && offset > 0) {
      progress.set(0, size);
      progress.notice(fill(text.restarting || "", { size: humanSize(size) }));
    }
    return received;
  }

  // Sends file[state.received:] in chunks; resolves with the last state, rejects with
  // {message, field} when the portal refuses the upload for good.
  async function sendChunks(state, file, progress, token, control) {
    var text = messages();
    var offset = state.received;
    // Chunks grow while they go quickly: one sent in under a second doubles the next, up to 4x
    // the size the portal asks for (the most it accepts). Fewer, larger requests cost the
    // portal less on a fast link; a slow one keeps small chunks, and a dropped connection
    // goes back to the asked size, so little is ever sent twice.
    var chunk = state.chunk_bytes;
    var delay = 1000;
    var refusals = 0;  // answers that were not OK in a row: past a few, give up with the reason
    progress.show();
    progress.set(offset, file.size, fill(text.sending || "", {
      sent: humanSize(offset), size: humanSize(file.size),
    }));
    while (offset < file.size) {
      if (control.cancelled) throw { message: "" };
      var end = Math.min(offset + chunk, file.size);
      var started = Date.now();
      var response;
      try {
        response = await fetch(state.chunk_url, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "X-CSRFToken": token,
            "X-Upload-Offset": String(offset),
            "Content-Type": "application/octet-stream",
            Accept: "application/json",
          },
          body: file.slice(offset, end),
        });
      } catch (dropped) {
        // The connection dropped: wait, ask the portal what it has, go on from there.
        chunk = state.chunk_bytes;
        progress.say(fill(text.retrying || "", { sent: humanSize(offset) }));
        await sleep(delay);
        delay = Math.min(delay * 2, 30000);
        try {
          offset = goTo((await askState(state)).received, offset, file.size, progress, text);
        } catch (stillDown) { /* try the next chunk anyway; it fails fast if still down */ }
        continue;
      }
      var body = {};
      try { body = await response.json(); } catch (notJson) { body = {}; }
      if (response.status === 415 || response.status === 410 || response.status === 403) {
        throw { message: body.error || response.statusText, field: body.field };
      }
      if (!response.ok) {
        refusals += 1;
        if (refusals > 5) throw { message: body.error || response.statusText };
        // Out of order or incomplete: the portal says where it stands.
        if (typeof body.received === "number") {
          offset = goTo(body.received, offset, file.size, progress, text);
        } else {
          await sleep(delay);
          delay = Math.min(delay * 2, 30000);
        }
        continue;
      }
      delay = 1000;
      refusals = 0;
      if (Date.now() - started < 1000) chunk = Math.min(chunk * 2, 4 * state.chunk_bytes);
      offset = goTo(body.received, offset, file.size, progress, text);
      state = Object.assign(state, body);
      progress.set(offset, file.size, fill(text.sending || "", {
        sent: humanSize(offset), size: humanSize(file.size),
      }));
    }
    progress.set(file.size, file.size, text.received || "");
    return state;
  }

  function showFieldError(form, field, message) {
    var input = field && form.querySelector('[name="' + field + '"]');
    var holder = input ? input.closest(".mb-3") : null;
    var div = document.createElement("div");
    div.className = "invalid-feedback d-block";
    div.textContent = message;
    if (holder) {
      holder.appendChild(div);
      input.classList.add("is-invalid");
      input.focus();
    } else {
      var alert = document.createElement("div");
      alert.className = "alert alert-danger";
      alert.setAttribute("role", "alert");
      alert.textContent = message;
      form.prepend(alert);
    }
  }

  // --- the create form -----------------------------------------------------------------------

  function showSource(form) {
    var chosen = form.querySelector('input[name="source"]:checked');
    form.querySelectorAll("[data-source]").forEach(function (block) {
      block.hidden = Boolean(chosen) && block.getAttribute("data-source") !== chosen.value;
    });
  }

  function putFileBack(form, file) {
    var input = form.querySelector('input[type="file"][name="file"]');
    if (!input || !file || !window.DataTransfer) return;
    var transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
  }

  async function submitCreate(form, file) {
    // Errors of an earlier try go; the portal answers with fresh ones if any remain.
    form.querySelectorAll(".invalid-feedback, .alert-danger").forEach(function (e) { e.remove(); });
    form.querySelectorAll(".is-invalid").forEach(function (e) { e.classList.remove("is-invalid"); });
    var data = new FormData(form);
    data.delete("file");
    data.set("file_name", file.name);
    data.set("file_size", String(file.size));
    var token = csrfToken(form);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    var response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Upload-Mode": "chunked", "X-CSRFToken": token, Accept: "application/json" },
      });
    } catch (unreachable) {
      showFieldError(form, null, String(unreachable));
      buttons.forEach(function (b) { b.disabled = false; });
      return;
    }
    if (response.status === 400) {
      // The form with its errors, at the fields; nothing the user typed or chose is lost.
      form.innerHTML = await response.text();
      putFileBack(form, file);
      showSource(form);
      return;
    }
    if (response.status !== 201) {
      showFieldError(form, null, response.status + " " + response.statusText);
      buttons.forEach(function (b) { b.disabled = false; });
      return;
    }
    var state = await response.json();
    var progress = new Progress(form);
    var control = { cancelled: false };
    addCancelButton(form, state, token, control);
    try {
      state = await sendChunks(state, file, progress, token, control);
      window.location.assign(state.list_url);
    } catch (refused) {
      if (control.cancelled) return;
      progress.say(fill(messages().failed || "", { reason: refused.message }), true);
      showFieldError(form, refused.field, refused.message);
      buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  function addCancelButton(form, state, token, control) {
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-outline-danger btn-sm mt-2";
    cancel.textContent = messages().cancel || "Cancel upload";
    cancel.addEventListener("click", async function () {
      control.cancelled = true;
      await fetch(state.cancel_url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token, Accept: "application/json" },
      });
      window.location.assign(state.list_url);
    });
    form.querySelector("#upload-progress").appendChild(cancel);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.matches("[data-chunked-upload]")) {
      var source = form.querySelector('input[name="source"]:checked');
      var input = form.querySelector('input[type="file"][name="file"]');
      var file = input && input.files && input.files[0];
      if (source && source.value === "file" && file && window.fetch) {
        event.preventDefault();
        submitCreate(form, file);
      }
      return;
    }
    if (form.matches("[data-resume-upload]")) {
      event.preventDefault();
      resume(form);
    }
  });

  // --- resuming an upload on its own page ----------------------------------------------------

  async function resume(form) {
    var input = form.querySelector('input[type="file"]');
    var file = input.files && input.files[0];
    var error = form.querySelector("[data-resume-error]");
    if (!file) return;
    var token = csrfToken(form);
    var state = await askState({ status_url: form.dataset.statusUrl });
    if (file.size !== state.size) {
      error.textContent = messages().mismatch || "";
      error.classList.add("d-block");
      return;
    }
    error.classList.remove("d-block");
    // The portal answers with where to send from: 0 when the upload had to start over.
    var resumed = await fetch(form.dataset.resumeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
    });
    if (resumed.ok) state = await resumed.json();
    var progress = new Progress(form);
    try {
      state = await sendChunks(state, file, progress, token, { cancelled: false });
      window.location.assign(form.dataset.listUrl);
    } catch (refused) {
      progress.say(fill(messages().failed || "", { reason: refused.message }), true);
    }
  }

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.matches("[data-chunked-upload]") && event.target.name === "source") {
      showSource(form);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chunked-upload]").forEach(showSource);
  });
})();
