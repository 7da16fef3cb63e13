// The API documentation page: Swagger UI, from our own static files, drawing /api/schema/.
// swagger-ui-bundle.js (a classic deferred script) defines window.SwaggerUIBundle before this module runs.

const container = document.getElementById("swagger-ui");

// Django's CSRF token, for "Try it out" on writes with the session (tokens need none).
function csrfToken() {
  const cookie = document.cookie.split("; ").find((item) => item.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.split("=")[1]) : "";
}

if (container && window.SwaggerUIBundle) {
  container.replaceChildren();
  window.SwaggerUIBundle({
    url: container.dataset.schemaUrl || "/api/schema/",
    dom_id: "#swagger-ui",
    // No badge from the public validator: the page makes no request outside the product.
    validatorUrl: null,
    deepLinking: true,
    requestInterceptor: (request) => {
      if (!["GET", "HEAD", "OPTIONS"].includes((request.method || "GET").toUpperCase())) {
        request.headers["X-CSRFToken"] = csrfToken();
      }
      return request;
    },
  });
}
