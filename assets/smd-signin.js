/*
 * Signed out while the page was open (session idle, expired or revoked): reload.
 *
 * The request gate answers a Dash request without a valid session with 401 and the
 * header X-SMD-Signin: required. Reloading sends the page request through the gate,
 * which redirects to sign-in with this page's address as `next`, so the user (or a
 * wall screen's browser) comes back to the same view with a fresh session instead of
 * sitting on data its callbacks can no longer refresh.
 */
(function () {
    "use strict";
    if (!window.fetch) {
        return;
    }
    var send = window.fetch.bind(window);
    var reloading = false;

    function signedOut(response) {
        return response.status === 401 && response.headers.get("X-SMD-Signin") === "required";
    }

    window.fetch = function (input, init) {
        return send(input, init).then(function (response) {
            if (signedOut(response)) {
                if (!reloading) {
                    reloading = true;
                    window.location.reload();
                }
                // The page is going away: callers (Dash's renderer) never see the refusal,
                // so nothing half-handles it or flashes an error before the reload.
                return new Promise(function () {});
            }
            return response;
        });
    };
})();
