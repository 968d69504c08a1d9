// Starts Swagger UI on /api/v1/docs. A file of its own: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: container.getAttribute("data-spec-url"),
    domNode: container,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // Requests are sent with the token typed into "Authorize", never with the session cookie.
    withCredentials: false
  });
})();
