import Foundation
import GRPCCore
import HTTPTypes
import LLMLabTestSupport
import LLMLabAPI
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTracing
import SwiftProtobuf
import Testing

/// Spans written through the store's repository, as ingest would write them, minutes ago.
enum WebTraceSeed {
    static let failing = String(repeating: "1", count: 32)
    static let hostile = String(repeating: "2", count: 32)
    static let hostileName = "<img src=x onerror=alert(1)>"

    static func span(_ trace: String, _ id: String, parent: String = "", _ name: String, _ category: SpanCategory, project: UUID,
                     start: UInt64, end: UInt64, error: String? = nil, flags: SpanErrorFlags = [], model: String = "",
                     cost: String? = nil, tool: String = "") -> NormalizedSpan {
        let t0 = UInt64(Date().addingTimeInterval(-600).timeIntervalSince1970) * 1_000_000_000
        return NormalizedSpan(
            traceID: trace, spanID: id, parentSpanID: parent, projectID: project, name: name, category: category,
            startTimeUnixNano: t0 + start * 1_000_000, endTimeUnixNano: t0 + end * 1_000_000,
            isError: error != nil, errorFlags: flags, errorMessage: error ?? "",
            provider: model.isEmpty ? "" : "openai", requestModel: model, responseModel: model,
            tokens: category == .llm ? TokenUsage(uncachedInput: 100, output: 20) : .zero, costUSD: cost,
            unpricedReason: category == .llm && cost == nil ? "unknown_model: not in the catalog" : "",
            finishReason: "", userID: "u-1", sessionID: "sess-1", serviceName: "travel-app", toolName: tool)
    }

    static func spans(project: UUID) -> [NormalizedSpan] {
        [
            span(failing, "a1", "travel-planner", .agent, project: project, start: 0, end: 64_000, error: "search_flights failed twice"),
            span(failing, "a2", parent: "a1", "chat gpt-4o", .llm, project: project, start: 100, end: 3_100, model: "gpt-4o", cost: "0.0021"),
            span(failing, "a3", parent: "a1", "execute_tool search_flights", .tool, project: project, start: 3_200, end: 33_200,
                 error: "TimeoutError: upstream took longer than 30 s", flags: [.toolError, .timeout], tool: "search_flights"),
            span(hostile, "b1", hostileName, .chain, project: project, start: 0, end: 900),
            span(hostile, "b2", parent: "b1", "</td><script>alert(2)</script>", .llm, project: project, start: 10, end: 800,
                 model: "<b>evil-model</b>", cost: "0.5"),
        ]
    }

    static func insert(_ spans: [NormalizedSpan], tenant: TestDashboard.Tenant, into dash: TestDashboard) async throws {
        try await dash.database.database.withTenantTransaction(TenantScope(tenantID: tenant.uuid)) { connection in
            _ = try await SpanRepository(connection, logger: TestDashboard.logger).insert(spans)
        }
    }
}

/// Every page with seeded data: the figures that matter (exact spend), escaping of
/// attacker-controlled names, and another tenant's ids as 404.
@Suite("Dashboard pages")
struct PagesTests {
    /// A moment this month, at least a minute into it, and in the past.
    static var thisMonth: Date {
        let now = Date()
        let start = Calendar(identifier: .gregorian).dateInterval(of: .month, for: now)!.start
        return max(start.addingTimeInterval(60), now.addingTimeInterval(-1800))
    }

    @Test("overview, cost, models, traces, trace, alerts and settings render the seeded data, escaped")
    func pages() async throws {
        try await TestDashboard.with { dash in
            let tenant = try await dash.makeTenant("web-pages")
            let other = try await dash.makeTenant("web-pages-other")
            let support = try await dash.projects.createProject(.with { $0.name = "Support bot"; $0.monthlyBudgetUsd = "500" },
                                                                metadata: tenant.ownerAuth)
            let batch = try await dash.projects.createProject(.with { $0.name = "Batch <jobs> & co"; $0.monthlyBudgetUsd = "2" },
                                                              metadata: tenant.ownerAuth)
            let otherProject = try await dash.projects.createProject(.with { $0.name = "Theirs" }, metadata: other.ownerAuth)
            let at = Self.thisMonth
            var events: [UsageEventRecord] = []
            for index in 0..<3 {
                events.append(TestDashboard.event(tenant, "g\(index)", project: support.id, at: at, cost: "0.0125",
                                                  latency: 200, status: index == 0 ? 500 : 200))
            }
            events.append(TestDashboard.event(tenant, "c1", project: batch.id, at: at, model: "claude-sonnet-4-5", provider: "anthropic",
                                              cost: "2.5", latency: 1_500))
            events.append(TestDashboard.event(tenant, "x1", project: batch.id, at: at, model: "<script>alert(1)</script>", cost: "0.1"))
            events[3].endUser = "carol <admin>"
            try await dash.seedUsage(events, tenant: tenant)
            try await dash.seedUsage([TestDashboard.event(other, "o1", project: otherProject.id, at: at, cost: "99")], tenant: other)
            try await WebTraceSeed.insert(WebTraceSeed.spans(project: UUID(uuidString: support.id)!), tenant: tenant, into: dash)
            try await WebTraceSeed.insert([WebTraceSeed.span(String(repeating: "9", count: 32), "z1", "their trace", .agent,
                                                             project: UUID(uuidString: otherProject.id)!, start: 0, end: 10)],
                                          tenant: other, into: dash)
            let channel = try await dash.alerts.createChannel(.with { $0.name = "ops <hook>"; $0.url = "https://hooks.example.com/x" },
                                                              metadata: tenant.ownerAuth)
            _ = try await dash.alerts.testChannel(.with { $0.id = channel.channel.id }, metadata: tenant.ownerAuth)
            _ = try await dash.alerts.setAlertRule(.with { $0.projectID = support.id; $0.thresholds = [90]; $0.forecast = true },
                                                   metadata: tenant.ownerAuth)
            // Batch spent $2.60 of its $2 budget: the evaluator fires its threshold alerts.
            _ = await AlertEvaluator(database: dash.database.database, logger: TestDashboard.logger).runOnce()

            try await dash.browse { browser in
                try await browser.signIn(tenant: tenant.slug, email: tenant.ownerEmail)

                let overview = try await browser.get("/ui")
                #expect(overview.status == .ok)
                // 3 × 0.0125 + 2.5 + 0.1, exact; the other tenant's $99 is not here.
                #expect(overview.contains("id=\"spend-month-total\" data-testid=\"spend-month-total\" title=\"$2.6375\" data-usd=\"2.6375\">$2.64<"))
                #expect(overview.contains("data-usd=\"0.0375\">$0.04<"))
                #expect(overview.contains("id=\"budget-\(support.id)\""))
                #expect(overview.contains("data-testid=\"alert-row\"") && overview.contains("100% of budget"))
                #expect(overview.contains("data-testid=\"budget-bar-\(support.id)\""))
                #expect(overview.contains("Batch &lt;jobs&gt; &amp; co") && !overview.contains("Batch <jobs>"))
                #expect(overview.contains("data-testid=\"requests-month\">5<"))
                #expect(!overview.contains("data-usd=\"99\""))

                let cost = try await browser.get("/ui/cost?range=7d&by=model&granularity=hour")
                #expect(cost.status == .ok)
                #expect(cost.contains("data-testid=\"cost-total\" title=\"$2.6375\" data-usd=\"2.6375\""))
                #expect(cost.contains("id=\"cost-chart\"") && cost.contains("<rect class=\"s0\""))
                #expect(cost.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !cost.contains("<script>alert(1)"))
                #expect(cost.contains("data-testid=\"top-models\"") && cost.contains("claude-sonnet-4-5"))
                // The costliest traces, linking to their waterfalls; spend by end user (escaped).
                #expect(cost.contains("data-testid=\"top-traces\"") && cost.contains("href=\"/ui/traces/\(WebTraceSeed.failing)\""))
                let byUser = try await browser.get("/ui/cost?range=7d&by=user")
                #expect(byUser.status == .ok && byUser.contains("carol &lt;admin&gt;") && byUser.contains("(no user)"))
                #expect(!byUser.contains("carol <admin>"))
                #expect(byUser.contains("data-usd=\"2.5\""))
                let byProject = try await browser.get("/ui/cost?range=30d&by=project")
                #expect(byProject.contains("Support bot") && byProject.contains("data-usd=\"0.0375\""))
                #expect(byProject.contains("data-usd=\"2.6\""))

                let models = try await browser.get("/ui/models?range=7d")
                #expect(models.status == .ok)
                #expect(models.contains("data-model=\"gpt-4o\"") && models.contains("33.3%"))
                #expect(models.contains("data-model=\"&lt;script&gt;alert(1)&lt;/script&gt;\""))

                let traces = try await browser.get("/ui/traces")
                #expect(traces.status == .ok)
                #expect(traces.contains("data-trace-id=\"\(WebTraceSeed.failing)\"") && traces.contains("travel-planner"))
                #expect(traces.contains("&lt;img src=x onerror=alert(1)&gt;") && !traces.contains(WebTraceSeed.hostileName))
                #expect(!traces.contains(String(repeating: "9", count: 32)))
                let errorsOnly = try await browser.get("/ui/traces?status=error&since=24h")
                #expect(errorsOnly.contains(WebTraceSeed.failing) && !errorsOnly.contains(WebTraceSeed.hostile))
                let badFilter = try await browser.get("/ui/traces?min_cost=abc")
                #expect(badFilter.status == .ok && badFilter.contains("data-testid=\"form-error\"") && badFilter.contains("min_cost_usd"))

                let trace = try await browser.get("/ui/traces/\(WebTraceSeed.failing)")
                #expect(trace.status == .ok)
                #expect(trace.body.components(separatedBy: "data-testid=\"waterfall-row\"").count - 1 == 3)
                #expect(trace.contains("id=\"explain\"") && trace.contains("data-testid=\"explain-root-cause\""))
                #expect(trace.contains("execute_tool search_flights") && trace.contains("TimeoutError: upstream took longer than 30 s"))
                #expect(trace.contains("data-testid=\"trace-cost\" title=\"$0.0021\""))
                let hostile = try await browser.get("/ui/traces/\(WebTraceSeed.hostile)")
                #expect(hostile.status == .ok)
                #expect(!hostile.contains("<script>alert(2)") && hostile.contains("&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;"))
                #expect(!hostile.contains("<b>evil-model</b>") && !hostile.contains(WebTraceSeed.hostileName))

                // Another tenant's trace, a malformed id, an unknown path: 404 pages.
                #expect(try await browser.get("/ui/traces/\(String(repeating: "9", count: 32))").status == .notFound)
                #expect(try await browser.get("/ui/traces/not-a-trace").status == .notFound)
                #expect(try await browser.get("/ui/nothing/here").status == .notFound)

                let alerts = try await browser.get("/ui/alerts")
                #expect(alerts.status == .ok && alerts.contains("ops &lt;hook&gt;") && alerts.contains("data-testid=\"delivery-row\""))
                #expect(alerts.contains(">test<") && alerts.contains("<td>ops &lt;hook&gt;</td>"))
                #expect(alerts.contains("data-testid=\"alert-row\"") && alerts.contains("data-testid=\"rule-row\"") && alerts.contains("90%"))

                for section in ["projects", "keys", "provider-keys", "routes", "alerts"] {
                    let page = try await browser.get("/ui/settings/\(section)")
                    #expect(page.status == .ok, "settings/\(section)")
                    #expect(page.contains("data-testid=\"settings-\(section)\""))
                }
                let projects = try await browser.get("/ui/settings/projects")
                #expect(projects.contains("data-testid=\"create-project-form\"") && projects.contains("data-testid=\"project-archive-form\""))

                // LLMLAB_WEB_DUMP=<dir>: keep the pages to look at (served from <dir>, /ui/<name>.html).
                if let directory = ProcessInfo.processInfo.environment["LLMLAB_WEB_DUMP"] {
                    let pages = ["overview": overview, "cost": cost, "models": models, "traces": traces, "trace": trace, "alerts": alerts,
                                 "settings": projects, "hostile": hostile, "keys": try await browser.get("/ui/settings/keys"),
                                 "routes": try await browser.get("/ui/settings/routes"),
                                 "settings-alerts": try await browser.get("/ui/settings/alerts"),
                                 "app.css": try await browser.get("/ui/static/app.css"), "app.js": try await browser.get("/ui/static/app.js")]
                    try FileManager.default.createDirectory(atPath: directory + "/ui/static", withIntermediateDirectories: true)
                    for (name, page) in pages {
                        let path = name.hasPrefix("app.") ? "\(directory)/ui/static/\(name)" : "\(directory)/ui/\(name).html"
                        try page.body.write(toFile: path, atomically: true, encoding: .utf8)
                    }
                }

                let css = try await browser.get("/ui/static/app.css")
                #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8")
                #expect(try await browser.get("/ui/static/app.js").status == .ok)
            }
        }
    }
    @Test("trace list pages with the cursor, keeping the filters; cost names API keys")
    func paging() async throws {
        try await TestDashboard.with { dash in
            let tenant = try await dash.makeTenant("web-paging")
            let project = try await dash.projects.createProject(.with { $0.name = "p" }, metadata: tenant.ownerAuth)
            let projectID = UUID(uuidString: project.id)!
            let spans = (0..<55).map { index in
                WebTraceSeed.span(String(format: "%032x", index + 1), "s\(index)", "run-\(index)", .agent, project: projectID,
                                  start: UInt64(index) * 10, end: UInt64(index) * 10 + 5)
            }
            try await WebTraceSeed.insert(spans, tenant: tenant, into: dash)
            let key = try await dash.auth.createApiKey(.with { $0.name = "ci <bot>"; $0.role = .member; $0.scopes = ["proxy"] },
                                                       metadata: tenant.ownerAuth)
            try await dash.seedUsage([TestDashboard.event(tenant, "k1", project: project.id, at: Self.thisMonth, cost: "1.25",
                                                          key: UUID(uuidString: key.apiKey.id)!)], tenant: tenant)
            try await dash.browse { browser in
                try await browser.signIn(tenant: tenant.slug, email: tenant.ownerEmail)
                let first = try await browser.get("/ui/traces?name=run")
                #expect(first.body.components(separatedBy: "data-testid=\"trace-row\"").count - 1 == 50)
                let marker = "data-testid=\"next-page\""
                let link = try #require(first.body.range(of: "<a href=\"", options: .backwards, range: first.body.startIndex..<(first.body.range(of: marker)?.lowerBound ?? first.body.startIndex)))
                let href = String(first.body[link.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
                #expect(href.contains("name=run") && href.contains("page="))
                let second = try await browser.get(href)
                #expect(second.body.components(separatedBy: "data-testid=\"trace-row\"").count - 1 == 5)
                #expect(second.contains("data-testid=\"first-page\"") && !second.contains(marker))

                let cost = try await browser.get("/ui/cost?by=key&range=30d")
                #expect(cost.contains("ci &lt;bot&gt; (\(key.apiKey.prefix)…)") && cost.contains("data-usd=\"1.25\""))
            }
        }
    }

    @Test("billing: tracked vs billed from an imported export, the gap flagged; viewers read it; other tenants see nothing")
    func billing() async throws {
        try await TestDashboard.with { dash in
            let tenant = try await dash.makeTenant("web-billing")
            let other = try await dash.makeTenant("web-billing-other")
            let project = try await dash.projects.createProject(.with { $0.name = "p" }, metadata: tenant.ownerAuth)
            let at = Self.thisMonth
            let day = String(ISO8601DateFormatter().string(from: at).prefix(10))
            // Tracked: $2 of gpt-4o and $1 of claude; billed: $2 of gpt-4o (matches) and $1.50 of claude (50% more).
            try await dash.seedUsage([
                TestDashboard.event(tenant, "b1", project: project.id, at: at, cost: "2"),
                TestDashboard.event(tenant, "b2", project: project.id, at: at, model: "claude-sonnet-4-5", provider: "anthropic", cost: "1"),
            ], tenant: tenant)
            let csv = "date,provider,model,cost_usd\n\(day),openai,gpt-4o,2.00\n\(day),anthropic,claude-sonnet-4-5,1.50\n"
            _ = try await dash.billing.importBillingCSV(.with { $0.format = .generic; $0.content = Data(csv.utf8) }, metadata: tenant.ownerAuth)
            let viewerEmail = try await dash.addUser(tenant, role: .viewer)
            try await dash.browse { browser in
                try await browser.signIn(tenant: tenant.slug, email: tenant.ownerEmail)
                let page = try await browser.get("/ui/billing?from=\(day)&to=\(day)")
                #expect(page.status == .ok)
                #expect(page.contains("data-testid=\"billing-total\" data-provider=\"anthropic\" class=\"flagged\""))
                #expect(page.contains("data-testid=\"billing-total\" data-provider=\"openai\"><td>"))
                #expect(page.contains("data-usd=\"0.5\"") && page.contains("33.33%"))
                #expect(page.body.components(separatedBy: "data-testid=\"billing-row\"").count - 1 == 2)
                #expect(page.contains("import:generic"))
                let bad = try await browser.get("/ui/billing?from=yesterday")
                #expect(bad.status == .ok && bad.contains("data-testid=\"form-error\"") && bad.contains("from"))
            }
            try await dash.browse { viewer in
                try await viewer.signIn(tenant: tenant.slug, email: viewerEmail)
                let page = try await viewer.get("/ui/billing?from=\(day)&to=\(day)")
                #expect(page.status == .ok && page.contains("data-provider=\"anthropic\" class=\"flagged\""))
            }
            try await dash.browse { browser in
                try await browser.signIn(tenant: other.slug, email: other.ownerEmail)
                let theirs = try await browser.get("/ui/billing?from=\(day)&to=\(day)")
                #expect(theirs.status == .ok && !theirs.contains("data-testid=\"billing-row\""))
            }
        }
    }
}
