import LLMLabProto

/// The frame of every page: head (only same-origin assets, as the CSP demands), the nav
/// bar with the tenant, the user and a logout form, and the page's content.
enum Layout {
    enum Section: String, CaseIterable, Sendable {
        case overview, cost, models, traces, alerts, billing, settings

        var title: String {
            switch self {
            case .overview: "Overview"
            case .cost: "Cost"
            case .models: "Models"
            case .traces: "Traces"
            case .alerts: "Alerts"
            case .billing: "Billing"
            case .settings: "Settings"
            }
        }

        var path: String { self == .overview ? "/ui" : "/ui/\(rawValue)" }
    }

    static func page(title: String, section: Section?, session: DashboardSession?, content: HTML) -> HTML {
        var nav = HTML.empty
        if let session {
            let links = Section.allCases.map { item -> HTML in
                let current: HTML = item == section ? " aria-current=\"page\" class=\"active\"" : ""
                return "<a href=\"\(item.path)\" data-testid=\"nav-\(item.rawValue)\"\(current)>\(item.title)</a>"
            }
            nav = """
            <header class="topbar"><div class="brand">LLMLab</div><nav>\(links)</nav>\
            <div class="who"><span class="tenant" data-testid="tenant">\(session.principal.tenantSlug)</span> \
            <span class="user" data-testid="user">\(session.principal.email)</span> \
            <span class="role role-\(session.roleName)" data-testid="role">\(session.roleName)</span>\
            <form method="post" action="/ui/logout" class="inline" data-testid="logout-form">\(csrfField(session.csrf))\
            <button type="submit" class="link">Sign out</button></form></div></header>
            """
        }
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\
        <title>\(title) · LLMLab</title><link rel="stylesheet" href="/ui/static/app.css">\
        <script src="/ui/static/app.js" defer></script></head>
        <body>\(nav)<main>\(content)</main></body></html>
        """
    }

    static func csrfField(_ token: String) -> HTML {
        "<input type=\"hidden\" name=\"_csrf\" value=\"\(token)\">"
    }

    /// A message above a page's content: an error (form re-rendered) or a notice.
    static func banner(_ notice: Notice?) -> HTML {
        guard let notice else { return .empty }
        switch notice {
        case .error(let message): return "<div class=\"banner error\" role=\"alert\" data-testid=\"form-error\">\(message)</div>"
        case .info(let message): return "<div class=\"banner info\" data-testid=\"notice\">\(message)</div>"
        case .secret(let label, let secret):
            return """
            <div class="banner secret" data-testid="secret-once"><p>\(label) It is shown once: copy it now.</p>\
            <code class="secret-value" id="secret-value">\(secret)</code></div>
            """
        }
    }

    static func empty(_ text: String) -> HTML { "<p class=\"empty\">\(text)</p>" }
}

/// What a page says above its content after a form.
enum Notice: Sendable {
    case error(String)
    case info(String)
    /// A secret returned once by the control plane (API key, alert signing secret).
    case secret(label: String, value: String)
}
