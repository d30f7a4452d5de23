/*
 * Kiosk recovery for the wall screen (any page holding [data-smd-kiosk]).
 *
 * A wall screen nobody touches must never freeze. When Dash's requests start failing
 * (server restarted or down: network error or 5xx; session expired: a redirect or a
 * non-JSON answer where JSON was expected; 401/403), this script shows
 * "Reconnecting…", then probes the page's own URL with exponential backoff
 * (2 s, 4 s, 8 s … at most 60 s). As soon as the server answers at all (a page, or a
 * redirect to sign-in) it reloads the page, so the browser gets fresh code, a fresh
 * session and fresh data. Reloading only after a successful probe keeps the screen
 * from landing on the browser's own "site can't be reached" page, where no script
 * runs and nothing would ever recover.
 */
(function () {
    "use strict";
    var BASE_MS = 2000;
    var MAX_MS = 60000;
    var failures = 0;
    var timer = null;
    var reloading = false;

    function isKiosk() {
        return document.querySelector("[data-smd-kiosk]") !== null;
    }

    function isDashRequest(url) {
        return /\/_dash-(update-component|layout|dependencies)/.test(String(url));
    }

    function showReconnecting(on) {
        var note = document.getElementById("smd-wall-reconnect");
        if (on && !note) {
            note = document.createElement("div");
            note.id = "smd-wall-reconnect";
            note.setAttribute("role", "status");
            note.className = "smd-wall-reconnect";
            note.textContent = "Connection lost: reconnecting…";
            document.body.appendChild(note);
        } else if (!on && note) {
            note.remove();
        }
    }

    function nextDelay() {
        return Math.min(MAX_MS, BASE_MS * Math.pow(2, Math.max(0, failures - 1)));
    }

    function probe() {
        timer = null;
        window.__smdFetch(window.location.href, {
            cache: "no-store",
            credentials: "same-origin",
            redirect: "manual"
        }).then(function (response) {
            // 2xx/3xx, or the opaque redirect of an expired session: the server is back.
            if (response.type === "opaqueredirect" || response.status < 500) {
                reloading = true;
                window.location.reload();
            } else {
                schedule();
            }
        }, schedule);
    }

    function schedule() {
        if (reloading || timer !== null) {
            return;
        }
        failures += 1;
        showReconnecting(true);
        timer = window.setTimeout(probe, nextDelay());
    }

    function failed() {
        if (isKiosk()) {
            schedule();
        }
    }

    function looksBroken(response) {
        if (response.redirected || response.status === 401 || response.status === 403 ||
                response.status >= 500) {
            return true;
        }
        if (response.status === 200) {
            var type = response.headers.get("content-type") || "";
            return type.indexOf("json") === -1;
        }
        return false;
    }

    window.__smdFetch = window.fetch.bind(window);
    window.fetch = function (input, init) {
        var url = (input && input.url) ? input.url : input;
        var request = window.__smdFetch(input, init);
        if (!isDashRequest(url)) {
            return request;
        }
        return request.then(function (response) {
            if (looksBroken(response)) {
                failed();
            }
            return response;
        }, function (error) {
            failed();
            throw error;
        });
    };

    window.smdWallRecovery = {
        failures: function () { return failures; },
        nextDelay: nextDelay
    };
})();
