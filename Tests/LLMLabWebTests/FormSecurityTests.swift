import Foundation
import GRPCCore
import HTTPTypes
import LLMLabProto
import SwiftProtobuf
import Testing

/// Every form of the dashboard: refused without a valid CSRF token (nothing changes),
/// refused for a viewer by the control plane (403 page), validation errors shown next to
/// the form, another tenant's ids as 404, and the happy paths of the owner's forms.
@Suite("Dashboard forms")
struct FormSecurityTests {
    struct Fixture {
        var project: String
        var key: String
        var providerKey: String
        var route: String
        var channel: String
        var rule: String
    }

    static func fixture(_ dash: TestDashboard, _ tenant: TestDashboard.Tenant) async throws -> Fixture {
        let project = try await dash.projects.createProject(.with { $0.name = "Forms"; $0.monthlyBudgetUsd = "100" }, metadata: tenant.ownerAuth)
        let key = try await dash.auth.createApiKey(.with { $0.name = "proxy"; $0.role = .member; $0.scopes = ["proxy"] },
                                                   metadata: tenant.ownerAuth)
        let providerKey = try await dash.providerKeys.putProviderKey(.with {
            $0.projectID = project.id
            $0.provider = .openai
            $0.secret = "sk-test-0123456789abcdef"
        }, metadata: tenant.ownerAuth)
        let route = try await dash.routes.setRoute(.with {
            $0.projectID = project.id
            $0.alias = "smart"
            $0.deployments = [.with { $0.provider = .openai; $0.model = "gpt-4o"; $0.providerKeyID = providerKey.id }]
        }, metadata: tenant.ownerAuth)
        let channel = try await dash.alerts.createChannel(.with { $0.name = "ops"; $0.url = "https://hooks.example.com/x" },
                                                          metadata: tenant.ownerAuth)
        let rule = try await dash.alerts.setAlertRule(.with { $0.projectID = project.id; $0.forecast = true }, metadata: tenant.ownerAuth)
        return Fixture(project: project.id, key: key.apiKey.id, providerKey: providerKey.id, route: route.id, channel: channel.channel.id,
                       rule: rule.rule.id)
    }

    /// Every form: its action and valid fields (without the CSRF token).
    static func forms(_ f: Fixture) -> [(String, [(String, String)])] {
        [
            ("/ui/settings/projects", [("name", "New project"), ("monthly_budget_usd", "10")]),
            ("/ui/settings/projects/\(f.project)/budget", [("monthly_budget_usd", "250")]),
            ("/ui/settings/projects/\(f.project)/archive", []),
            ("/ui/settings/keys", [("name", "new key"), ("role", "viewer"), ("scopes", "control")]),
            ("/ui/settings/keys/\(f.key)/budget", [("monthly_budget_usd", "5")]),
            ("/ui/settings/keys/\(f.key)/revoke", []),
            ("/ui/settings/provider-keys/\(f.providerKey)/delete", []),
            ("/ui/settings/routes", [("project_id", f.project), ("alias", "fast"), ("strategy", "weighted"),
                                     ("deployments", "openai gpt-4o-mini \(f.providerKey) 1 0")]),
            ("/ui/settings/routes/\(f.route)/delete", []),
            ("/ui/settings/alerts", [("name", "pager"), ("kind", "webhook"), ("url", "https://hooks.example.com/p")]),
            ("/ui/settings/alerts/\(f.channel)/test", []),
            ("/ui/settings/alerts/\(f.channel)/disable", []),
            ("/ui/settings/alerts/\(f.channel)/enable", []),
            ("/ui/settings/alerts/\(f.channel)/rotate", []),
            ("/ui/settings/alerts/rules", [("subject", "project:\(f.project)"), ("thresholds", "50, 90"), ("forecast", "on")]),
            ("/ui/settings/alerts/rules/\(f.rule)/delete", []),
            ("/ui/settings/alerts/\(f.channel)/delete", []),
        ]
    }

    @Test("no or a wrong CSRF token: 403 and nothing changes; a viewer sees no forms and gets 403 on every one")
    func csrfAndViewer() async throws {
        try await TestDashboard.with { dash in
            let tenant = try await dash.makeTenant("web-forms")
            let fixture = try await Self.fixture(dash, tenant)
            let viewerEmail = try await dash.addUser(tenant, role: .viewer)
            let viewerCSRF: String = try await dash.browse { viewer in
                try await viewer.signIn(tenant: tenant.slug, email: viewerEmail)
                var token = ""
                for section in ["projects", "keys", "provider-keys", "routes", "alerts"] {
                    let page = try await viewer.get("/ui/settings/\(section)")
                    #expect(page.status == .ok)
                    #expect(page.contains("data-testid=\"read-only\""))
                    // The only form a viewer sees is sign-out.
                    #expect(page.body.components(separatedBy: "<form method=\"post\"").count - 1 == 1, "settings/\(section)")
                    token = page.csrf ?? ""
                }
                for (action, fields) in Self.forms(fixture) {
                    let refused = try await viewer.post(action, [("_csrf", token)] + fields)
                    #expect(refused.status == .forbidden, "viewer \(action)")
                    #expect(refused.contains("data-testid=\"error-page\""), "viewer \(action)")
                }
                return token
            }
            try await dash.browse { owner in
                try await owner.signIn(tenant: tenant.slug, email: tenant.ownerEmail)
                let page = try await owner.get("/ui/settings/projects")
                let token = try #require(page.csrf)
                #expect(token != viewerCSRF)
                for (action, fields) in Self.forms(fixture) {
                    #expect(try await owner.post(action, fields).status == .forbidden, "no token \(action)")
                    #expect(try await owner.post(action, [("_csrf", "x" + token.dropFirst())] + fields).status == .forbidden, "bad token \(action)")
                    // Another session's token is worth nothing here.
                    #expect(try await owner.post(action, [("_csrf", viewerCSRF)] + fields).status == .forbidden, "viewer's token \(action)")
                }
            }
            // Nothing changed.
            let projects = try await dash.projects.listProjects(.with { $0.includeArchived = true }, metadata: tenant.ownerAuth).projects
            #expect(projects.count == 1 && !projects[0].hasArchivedAt && projects[0].monthlyBudgetUsd == "100.00")
            let keys = try await dash.auth.listApiKeys(.init(), metadata: tenant.ownerAuth).apiKeys
            #expect(keys.count == 1 && !keys[0].hasRevokedAt)
            #expect(try await dash.providerKeys.listProviderKeys(.init(), metadata: tenant.ownerAuth).providerKeys.count == 1)
            #expect(try await dash.routes.listRoutes(.init(), metadata: tenant.ownerAuth).routes.count == 1)
            let channels = try await dash.alerts.listChannels(.init(), metadata: tenant.ownerAuth).channels
            #expect(channels.count == 1 && !channels[0].disabled)
            #expect(try await dash.alerts.listAlertRules(.init(), metadata: tenant.ownerAuth).rules.map(\.thresholds) == [[50, 80, 100]])
            #expect(try await dash.alerts.listDeliveries(.init(), metadata: tenant.ownerAuth).deliveries.isEmpty)
        }
    }

    @Test("the owner's forms work; invalid input re-renders the form; another tenant's ids are 404")
    func ownerForms() async throws {
        try await TestDashboard.with { dash in
            let tenant = try await dash.makeTenant("web-owner")
            let other = try await dash.makeTenant("web-owner-other")
            let fixture = try await Self.fixture(dash, tenant)
            let theirs = try await Self.fixture(dash, other)
            try await dash.browse { owner in
                try await owner.signIn(tenant: tenant.slug, email: tenant.ownerEmail)
                let token = try #require(try await owner.get("/ui/settings/projects").csrf)

                // Another tenant's ids: the control plane answers NOT_FOUND; nothing of theirs changes.
                for (action, fields) in Self.forms(theirs) where action.contains(theirs.project) || action.contains(theirs.key)
                    || action.contains(theirs.providerKey) || action.contains(theirs.route) || action.contains(theirs.channel) || action.contains(theirs.rule) {
                    let page = try await owner.post(action, [("_csrf", token)] + fields)
                    #expect(page.status == .notFound, "other tenant \(action)")
                }
                #expect(try await dash.projects.listProjects(.init(), metadata: other.ownerAuth).projects.count == 1)

                // Validation: the page again with the message, never a stack.
                let invalid = try await owner.post("/ui/settings/projects/\(fixture.project)/budget",
                                                   [("_csrf", token), ("monthly_budget_usd", "lots")])
                #expect(invalid.status == .unprocessableContent)
                #expect(invalid.contains("data-testid=\"form-error\"") && invalid.contains("monthly_budget_usd"))
                #expect(invalid.contains("data-testid=\"settings-projects\""))
                let badRoute = try await owner.post("/ui/settings/routes", [("_csrf", token), ("project_id", fixture.project),
                                                                            ("alias", "x"), ("deployments", "nonsense")])
                #expect(badRoute.status == .unprocessableContent && badRoute.contains("deployment line 1"))

                // The happy paths.
                let created = try await owner.post("/ui/settings/projects", [("_csrf", token), ("name", "Made <here>"),
                                                                             ("monthly_budget_usd", "42.5")])
                #expect(created.status == .seeOther && created.location == "/ui/settings/projects")
                let listed = try await owner.get("/ui/settings/projects")
                #expect(listed.contains("Made &lt;here&gt;") && listed.contains("data-usd=\"42.50\""))
                #expect(try await owner.post("/ui/settings/projects/\(fixture.project)/budget",
                                             [("_csrf", token), ("monthly_budget_usd", "250")]).status == .seeOther)

                let key = try await owner.post("/ui/settings/keys", [("_csrf", token), ("name", "ci"), ("role", "member"),
                                                                     ("scopes", "control"), ("scopes", "proxy")])
                #expect(key.status == .ok && key.contains("data-testid=\"secret-once\"") && key.contains("llk_"))
                #expect(try await owner.get("/ui/settings/keys").contains("data-testid=\"secret-once\"") == false)
                #expect(try await owner.post("/ui/settings/keys/\(fixture.key)/budget",
                                             [("_csrf", token), ("monthly_budget_usd", "7.25")]).status == .seeOther)
                #expect(try await owner.post("/ui/settings/routes", [("_csrf", token), ("project_id", fixture.project), ("alias", "fast"),
                                                                     ("deployments", "openai gpt-4o-mini \(fixture.providerKey) 2 1")])
                    .status == .seeOther)
                let channel = try await owner.post("/ui/settings/alerts", [("_csrf", token), ("name", "pager"), ("kind", "slack"),
                                                                           ("url", "https://hooks.example.com/p")])
                #expect(channel.status == .ok && channel.contains("whsec_"))
                #expect(try await owner.post("/ui/settings/alerts/\(fixture.channel)/disable", [("_csrf", token)]).status == .seeOther)
                #expect(try await owner.get("/ui/settings/alerts").contains("data-testid=\"channel-enable-form\""))
                #expect(try await owner.post("/ui/settings/alerts/\(fixture.channel)/enable", [("_csrf", token)]).status == .seeOther)
                let rotated = try await owner.post("/ui/settings/alerts/\(fixture.channel)/rotate", [("_csrf", token)])
                #expect(rotated.status == .ok && rotated.contains("whsec_") && rotated.contains("data-testid=\"secret-once\""))
                let rule = try await owner.post("/ui/settings/alerts/rules", [("_csrf", token), ("subject", "project:\(fixture.project)"),
                                                                              ("thresholds", "50, 90%"), ("forecast", "on")])
                #expect(rule.status == .seeOther)
                let badRule = try await owner.post("/ui/settings/alerts/rules", [("_csrf", token), ("subject", "project:\(fixture.project)"),
                                                                                 ("thresholds", "lots")])
                #expect(badRule.status == .unprocessableContent && badRule.contains("not a whole percentage"))
                let email = try await owner.post("/ui/settings/alerts", [("_csrf", token), ("name", "mail"), ("kind", "email"),
                                                                         ("recipients", "ops@example.com, cfo@example.com")])
                #expect(email.status == .seeOther || email.status == .ok, "\(email.status)")
                let tested = try await owner.post("/ui/settings/alerts/\(fixture.channel)/test", [("_csrf", token)])
                #expect(tested.status == .ok && tested.contains("A test alert was queued"))
                let fast = try #require(try await dash.routes.listRoutes(.init(), metadata: tenant.ownerAuth).routes.first { $0.alias == "fast" })
                // A provider key a route still uses: the control plane's refusal, shown with the form.
                let inUse = try await owner.post("/ui/settings/provider-keys/\(fixture.providerKey)/delete", [("_csrf", token)])
                #expect(inUse.status == .unprocessableContent || inUse.status == .seeOther, "\(inUse.status)")
                for action in ["/ui/settings/alerts/rules/\(fixture.rule)/delete", "/ui/settings/routes/\(fast.id)/delete", "/ui/settings/routes/\(fixture.route)/delete", "/ui/settings/provider-keys/\(fixture.providerKey)/delete",
                               "/ui/settings/alerts/\(fixture.channel)/delete", "/ui/settings/keys/\(fixture.key)/revoke",
                               "/ui/settings/projects/\(fixture.project)/archive"] {
                    #expect(try await owner.post(action, [("_csrf", token)]).status == .seeOther, "\(action)")
                }
            }
            let projects = try await dash.projects.listProjects(.with { $0.includeArchived = true }, metadata: tenant.ownerAuth).projects
            #expect(projects.first { $0.id == fixture.project }?.hasArchivedAt == true)
            #expect(projects.first { $0.name == "Made <here>" }?.monthlyBudgetUsd == "42.50")
            let keys = try await dash.auth.listApiKeys(.with { $0.includeRevoked = true }, metadata: tenant.ownerAuth).apiKeys
            #expect(keys.first { $0.id == fixture.key }?.hasRevokedAt == true)
            #expect(keys.first { $0.id == fixture.key }?.monthlyBudgetUsd == "7.25")
            let routes = try await dash.routes.listRoutes(.init(), metadata: tenant.ownerAuth).routes
            #expect(routes.isEmpty)
            #expect(Set(try await dash.alerts.listChannels(.init(), metadata: tenant.ownerAuth).channels.map(\.name)) == ["pager", "mail"])
            #expect(try await dash.alerts.listAlertRules(.init(), metadata: tenant.ownerAuth).rules.isEmpty)
        }
    }
}
