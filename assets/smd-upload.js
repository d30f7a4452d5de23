/*
 * The upload page's transfer: files go from this browser straight to S3, never
 * through a Dash callback, so a multi-gigabyte file costs the web server nothing.
 *
 * For each file chosen (drop, click or keyboard on the drop zone):
 *   1. POST /api/uploads with the dataset, name, size and the file's first megabyte
 *      (all of a smaller file): the server checks it the way the ingest job reads it
 *      and answers a presigned POST, or a multipart plan with one URL per part;
 *      a refused file shows the server's message (naming the line or column).
 *   2. The bytes go to S3 with XMLHttpRequest (for progress events): one form POST,
 *      or parts PUT a few at a time. Each part is read, its CRC32 computed here
 *      (the vendored SheetJS crc-32, assets/vendor/crc-32), its URL signed with that
 *      checksum by POST /api/uploads/<id>/parts, and sent with it: S3 refuses a part
 *      whose bytes arrive different. A failed part is redone (read, checksum, sign,
 *      send) after a growing pause.
 *   3. POST /api/uploads/<id>/complete: the server checks the object arrived and
 *      records it (in direct trigger mode it starts the Glue job); on failure
 *      /abort discards the parts and records why.
 * The trail after that (triggered, running, succeeded with row counts) is the
 * page's own panel, re-read from the database on the refresh timer.
 */
(function () {
    "use strict";

    var ZONE_ID = "upload-drop";
    var DATASET_ID = "upload-dataset";
    var LIST_ID = "upload-files";
    var REFRESH_STORE_ID = "upload-refresh";
    var PARALLEL_PARTS = 4;
    var PART_RETRIES = 4;
    var CRC_SLICE_BYTES = 4 * 1024 * 1024;  // the page answers clicks between slices
    var API = "/api/uploads";

    function el(tag, attrs, text) {
        var node = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
        if (text !== undefined) { node.textContent = text; }
        return node;
    }

    function humanSize(n) {
        var units = ["bytes", "kB", "MB", "GB", "TB"];
        var i = 0;
        while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
        return i === 0 ? n + " bytes" : n.toFixed(1) + " " + units[i];
    }

    function apiHeaders(json) {
        var h = {"X-SMD-Upload": "1"};
        if (json) { h["Content-Type"] = "application/json"; }
        return h;
    }

    function postJson(url, body) {
        return fetch(url, {
            method: "POST", credentials: "same-origin", headers: apiHeaders(true),
            body: JSON.stringify(body || {})
        }).then(function (r) {
            return r.json().catch(function () { return {}; }).then(function (data) {
                if (!r.ok) {
                    var e = new Error(data.error || ("The server answered " + r.status));
                    e.status = r.status;
                    throw e;
                }
                return data;
            });
        });
    }

    /* Run `fn` once the page has handled what is waiting (clicks, progress events). A
       message, not setTimeout(0), which browsers stretch to 4 ms when chained. */
    var pauses = new MessageChannel();
    var afterPause = [];
    pauses.port1.onmessage = function () { afterPause.shift()(); };
    function pauseThen(fn) {
        afterPause.push(fn);
        pauses.port2.postMessage(0);
    }

    /* The CRC32 of `bytes` as S3 takes it (x-amz-checksum-crc32): base64 of its four
       big-endian bytes. Computed a slice at a time, continuing from the previous slice's
       value, so a 16 MiB part never blocks the page for long. */
    function crc32Base64(bytes) {
        return new Promise(function (resolve, reject) {
            var crc = 0;
            var offset = 0;
            function slice() {
                var end = Math.min(bytes.length, offset + CRC_SLICE_BYTES);
                try {
                    crc = window.CRC32.buf(bytes.subarray(offset, end), crc);
                } catch (e) {
                    reject(e);  // later slices run outside this promise's executor
                    return;
                }
                offset = end;
                if (offset < bytes.length) {
                    pauseThen(slice);
                    return;
                }
                var c = crc >>> 0;
                resolve(window.btoa(String.fromCharCode(
                    c >>> 24, (c >>> 16) & 255, (c >>> 8) & 255, c & 255)));
            }
            slice();
        });
    }

    function refreshTrail() {
        var dc = window.dash_clientside;
        if (dc && typeof dc.set_props === "function") {
            dc.set_props(REFRESH_STORE_ID, {data: Date.now()});
        }
    }

    /* One row of the list: name, size, a progress bar and a status line. */
    function FileRow(list, file) {
        this.file = file;
        this.li = el("li", {"class": "smd-upload-item list-group-item"});
        var head = el("div", {"class": "d-flex justify-content-between gap-2 flex-wrap"});
        head.appendChild(el("span", {"class": "fw-semibold text-break smd-upload-name"}, file.name));
        head.appendChild(el("span", {"class": "text-body-secondary"}, humanSize(file.size)));
        this.li.appendChild(head);
        this.bar = el("progress", {
            "class": "smd-upload-progress w-100", "max": "100", "value": "0",
            "aria-label": "Upload progress of " + file.name
        });
        this.li.appendChild(this.bar);
        this.status = el("p", {"class": "smd-upload-status mb-0 small", "role": "status"}, "Checking…");
        this.li.appendChild(this.status);
        this.cancel = el("button", {"type": "button", "class": "btn btn-sm btn-outline-secondary mt-1"},
            "Cancel");
        this.cancel.setAttribute("aria-label", "Cancel the upload of " + file.name);
        this.li.appendChild(this.cancel);
        list.insertBefore(this.li, list.firstChild);
    }

    FileRow.prototype.say = function (state, text) {
        this.li.setAttribute("data-state", state);
        this.status.textContent = text;
    };

    FileRow.prototype.progress = function (fraction) {
        this.bar.value = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    };

    FileRow.prototype.done = function () {
        if (this.cancel.parentNode) { this.cancel.parentNode.removeChild(this.cancel); }
    };

    /* One file's journey: check, transfer, complete. */
    function Upload(row, dataset) {
        this.row = row;
        this.file = row.file;
        this.dataset = dataset;
        this.requests = [];
        this.cancelled = false;
        this.plan = null;
        var self = this;
        row.cancel.addEventListener("click", function () { self.abort("Cancelled in the browser"); });
    }

    Upload.prototype.sampleBytes = function () {
        var zone = document.getElementById(ZONE_ID);
        return parseInt((zone && zone.getAttribute("data-sample-bytes")) || "1048576", 10);
    };

    Upload.prototype.check = function () {
        var form = new FormData();
        form.append("dataset", this.dataset);
        form.append("name", this.file.name);
        form.append("size", String(this.file.size));
        form.append("sample", this.file.slice(0, Math.min(this.file.size, this.sampleBytes())), "sample");
        return fetch(API, {method: "POST", credentials: "same-origin", headers: apiHeaders(false), body: form})
            .then(function (r) {
                return r.json().catch(function () { return {}; }).then(function (data) {
                    if (!r.ok) {
                        var e = new Error(data.error || ("The server answered " + r.status));
                        e.rejected = true;
                        throw e;
                    }
                    return data;
                });
            });
    };

    Upload.prototype.xhr = function (method, url, body, onProgress, headers) {
        var self = this;
        return new Promise(function (resolve, reject) {
            var req = new XMLHttpRequest();
            self.requests.push(req);
            req.open(method, url, true);
            Object.keys(headers || {}).forEach(function (k) { req.setRequestHeader(k, headers[k]); });
            req.upload.onprogress = function (ev) { if (ev.lengthComputable) { onProgress(ev.loaded); } };
            req.onload = function () {
                if (req.status >= 200 && req.status < 300) { resolve(req); }
                else { reject(new Error("S3 answered " + req.status)); }
            };
            req.onerror = function () { reject(new Error("the connection to S3 failed")); };
            req.onabort = function () { reject(new Error("cancelled")); };
            req.send(body);
        });
    };

    Upload.prototype.sendPost = function () {
        var self = this;
        var form = new FormData();
        var fields = this.plan.post.fields;
        Object.keys(fields).forEach(function (k) { form.append(k, fields[k]); });
        form.append("file", this.file);  // S3 reads every field after "file" as content
        return this.xhr("POST", this.plan.post.url, form, function (loaded) {
            self.row.progress(loaded / self.file.size);
        });
    };

    /* The presigned PUT of part `number` (1-based), signed with the part's CRC32. */
    Upload.prototype.signPart = function (number, crc32) {
        return postJson(API + "/" + this.plan.upload_id + "/parts", {
            multipart_upload_id: this.plan.multipart_upload_id,
            parts: [{part_number: number, crc32: crc32}]
        }).then(function (data) { return data.parts[0]; });
    };

    Upload.prototype.sendParts = function () {
        var self = this;
        var count = this.plan.part_count;
        var size = this.plan.part_size;
        var loaded = new Array(count).fill(0);
        var next = 0;
        function report() {
            var sum = loaded.reduce(function (a, b) { return a + b; }, 0);
            self.row.progress(sum / self.file.size);
        }
        function notCancelled(value) {
            if (self.cancelled) { throw new Error("cancelled"); }
            return value;
        }
        /* Read, checksum, sign, send: the bytes sent are the bytes checksummed. */
        function sendPart(i, attempt) {
            var blob = self.file.slice(i * size, Math.min(self.file.size, (i + 1) * size));
            var bytes = null;
            return blob.arrayBuffer().then(function (buffer) {
                bytes = new Uint8Array(notCancelled(buffer));
                return crc32Base64(bytes);
            }).then(function (crc32) {
                return self.signPart(i + 1, notCancelled(crc32));
            }).then(function (signed) {
                notCancelled(signed);
                return self.xhr("PUT", signed.url, bytes, function (n) { loaded[i] = n; report(); },
                    signed.headers);
            }).catch(function (err) {
                // The server's 4xx (the upload was cancelled, or is no longer in progress) will
                // not change on a retry; a failed transfer or a refused part may.
                var refused = err.status >= 400 && err.status < 500;
                if (self.cancelled || refused || attempt >= PART_RETRIES) { throw err; }
                loaded[i] = 0;
                return new Promise(function (r) { setTimeout(r, 500 * Math.pow(2, attempt)); })
                    .then(function () { return sendPart(i, attempt + 1); });
            });
        }
        function worker() {
            if (next >= count) { return Promise.resolve(); }
            var i = next;
            next += 1;
            return sendPart(i, 0).then(worker);
        }
        var workers = [];
        for (var w = 0; w < Math.min(PARALLEL_PARTS, count); w += 1) { workers.push(worker()); }
        return Promise.all(workers);
    };

    Upload.prototype.run = function () {
        var self = this;
        var row = this.row;
        row.say("checking", "Checking the file…");
        return this.check().then(function (plan) {
            self.plan = plan;
            if (self.cancelled) { throw new Error("cancelled"); }
            row.li.setAttribute("data-upload-id", plan.upload_id);
            row.say("sending", "Checked (" + plan.format.toUpperCase() + ", " +
                (plan.checked_whole_file ? "whole file" : "first megabyte; the job checks the rest") +
                "). Sending to S3…");
            refreshTrail();
            return plan.method === "multipart" ? self.sendParts() : self.sendPost();
        }).then(function () {
            row.progress(1);
            row.say("completing", "Sent. Confirming with the server…");
            return postJson(API + "/" + self.plan.upload_id + "/complete",
                {multipart_upload_id: self.plan.multipart_upload_id});
        }).then(function (trail) {
            row.done();
            row.say(trail.status, trail.status === "failed"
                ? "Failed: " + (trail.error || "see the trail below")
                : "Uploaded to " + "s3://" + trail.bucket + "/" + trail.key + " — status: " + trail.status + ".");
            refreshTrail();
        }).catch(function (err) {
            row.done();
            if (err.rejected) {
                row.bar.value = 0;
                row.say("rejected", "Not uploaded: " + err.message);
                return;
            }
            var reason = self.cancelled ? "Cancelled in the browser" : "The transfer failed: " + err.message;
            row.say("failed", reason + ".");
            if (self.plan && !self.aborted) {
                self.aborted = true;
                postJson(API + "/" + self.plan.upload_id + "/abort",
                    {multipart_upload_id: self.plan.multipart_upload_id, reason: reason})
                    .catch(function () { return null; })
                    .then(refreshTrail);
            }
        });
    };

    Upload.prototype.abort = function (reason) {
        this.cancelled = true;
        this.requests.forEach(function (r) { r.abort(); });
        this.row.say("failed", reason + ".");
    };

    function handleFiles(files) {
        var select = document.getElementById(DATASET_ID);
        var list = document.getElementById(LIST_ID);
        if (!list || !files || !files.length) { return; }
        var dataset = select ? select.value : "";
        var chain = Promise.resolve();
        Array.prototype.forEach.call(files, function (file) {
            var up = new Upload(new FileRow(list, file), dataset);
            chain = chain.then(function () { return up.run(); });  // one file at a time
        });
    }

    /* The file input lives in <body>, outside the React-managed page, so a re-render of the
       page never detaches it; the drop zone's events are delegated for the same reason. */
    function fileInput() {
        var input = document.getElementById("upload-input");
        if (!input) {
            input = el("input", {
                "type": "file", "multiple": "", "id": "upload-input", "hidden": "",
                "accept": ".csv,.json,.ndjson,.jsonl", "aria-label": "Files to upload"
            });
            document.body.appendChild(input);
            input.addEventListener("change", function () {
                handleFiles(input.files);
                input.value = "";
            });
        }
        return input;
    }

    function zoneOf(ev) {
        return ev.target instanceof Element ? ev.target.closest("#" + ZONE_ID) : null;
    }

    document.addEventListener("click", function (ev) {
        if (zoneOf(ev)) { fileInput().click(); }
    });
    document.addEventListener("keydown", function (ev) {
        if ((ev.key === "Enter" || ev.key === " ") && zoneOf(ev)) {
            ev.preventDefault();
            fileInput().click();
        }
    });
    document.addEventListener("dragover", function (ev) {
        var zone = zoneOf(ev);
        if (zone) {
            ev.preventDefault();
            zone.classList.add("smd-drop--over");
        }
    });
    document.addEventListener("dragleave", function (ev) {
        var zone = zoneOf(ev);
        if (zone) { zone.classList.remove("smd-drop--over"); }
    });
    document.addEventListener("drop", function (ev) {
        var zone = zoneOf(ev);
        if (zone) {
            ev.preventDefault();
            zone.classList.remove("smd-drop--over");
            handleFiles(ev.dataTransfer && ev.dataTransfer.files);
        }
    });
    if (document.body) { fileInput(); } else { document.addEventListener("DOMContentLoaded", fileInput); }

    // The page's own checksum, for bench/upload_crc32.py to time in Chromium.
    window.smdUpload = {crc32Base64: crc32Base64};
})();
