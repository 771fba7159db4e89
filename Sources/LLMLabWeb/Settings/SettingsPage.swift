import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// The settings sections, each a page under `/ui/settings/<rawValue>`.
enum SettingsSection: String, CaseIterable, Sendable {
    case projects
    case keys
    case providerKeys = "provider-keys"
    case routes
    case alerts

    var title: String {
        switch self {
        case .projects: "Projects & budgets"
        case .keys: "API keys"
        case .providerKeys: "Provider keys"
        case .routes: "Routes"
        case .alerts: "Alerts"
        }
    }
}

extension DashboardController {
    /// A settings page, with a notice above it (a form's error, a secret shown once).
    func settingsPage(_ session: DashboardSession, _ section: SettingsSection, notice: Notice? = nil) async throws -> HTML {
        let metadata = session.metadata
        let content: HTML
        switch section {
        case .projects:
            let projects = try await rpc.projects.listProjects(.with { $0.includeArchived = true; $0.pageSize = 200 },
                                                               metadata: metadata, options: rpc.options)
            content = ProjectSettingsView(session: session, projects: projects.projects).render()
        case .keys:
            async let keys = rpc.auth.listApiKeys(.with { $0.pageSize = 200 }, metadata: metadata, options: rpc.options)
            async let projects = rpc.projects.listProjects(.with { $0.pageSize = 200 }, metadata: metadata, options: rpc.options)
            content = ApiKeySettingsView(session: session, keys: try await keys.apiKeys, projects: try await projects.projects).render()
        case .providerKeys:
            async let keys = rpc.providerKeys.listProviderKeys(.init(), metadata: metadata, options: rpc.options)
            async let projects = rpc.projects.listProjects(.with { $0.includeArchived = true; $0.pageSize = 200 },
                                                           metadata: metadata, options: rpc.options)
            content = ProviderKeySettingsView(session: session, keys: try await keys.providerKeys, projects: try await projects.projects).render()
        case .routes:
            async let routes = rpc.routes.listRoutes(.with { $0.pageSize = 200 }, metadata: metadata, options: rpc.options)
            async let keys = rpc.providerKeys.listProviderKeys(.init(), metadata: metadata, options: rpc.options)
            async let projects = rpc.projects.listProjects(.with { $0.pageSize = 200 }, metadata: metadata, options: rpc.options)
            content = RouteSettingsView(session: session, routes: try await routes.routes, providerKeys: try await keys.providerKeys,
                                        projects: try await projects.projects).render()
        case .alerts:
            async let channels = rpc.alerts.listChannels(.init(), metadata: metadata, options: rpc.options)
            async let rules = rpc.alerts.listAlertRules(.init(), metadata: metadata, options: rpc.options)
            async let projects = rpc.projects.listProjects(.with { $0.pageSize = 500 }, metadata: metadata, options: rpc.options)
            async let keys = rpc.auth.listApiKeys(.with { $0.pageSize = 500 }, metadata: metadata, options: rpc.options)
            content = AlertSettingsView(session: session, channels: try await channels.channels, rules: try await rules.rules,
                                        projects: try await projects.projects, keys: try await keys.apiKeys).render()
        }
        let tabs = SettingsSection.allCases.map { item -> HTML in
            "<a href=\"/ui/settings/\(item.rawValue)\"\(item == section ? " class=\"active\" aria-current=\"page\"" : "")>\(item.title)</a>"
        }
        let mayChange = section == .keys ? session.canWriteKeys : session.canManage
        let readOnly: HTML = mayChange ? .empty
            : "<div class=\"banner info\" data-testid=\"read-only\">Your role (\(session.roleName)) can see these settings but not change them.</div>"
        return Layout.page(title: section.title, section: .settings, session: session, content: """
            <h1>Settings</h1><nav class="subnav">\(tabs)</nav>\(readOnly)\(Layout.banner(notice))\
            <section data-testid="settings-\(section.rawValue)"><h2>\(section.title)</h2>\(content)</section>
            """)
    }
}

/// Small builders the settings views share.
enum SettingsHTML {
    /// A POST form to `action` with the CSRF field; `confirm` asks first (app.js).
    static func form(_ action: String, csrf: String, testID: String, confirm: String? = nil, css: String = "inline", _ fields: HTML) -> HTML {
        let ask: HTML = confirm.map { " data-confirm=\"\($0)\"" } ?? .empty
        return "<form method=\"post\" action=\"\(action)\" class=\"\(css)\" data-testid=\"\(testID)\"\(ask)>\(Layout.csrfField(csrf))\(fields)</form>"
    }

    static func projectOptions(_ projects: [Llmlab_V1_Project], selected: String = "", none: String? = nil) -> HTML {
        var options: [HTML] = none.map { ["<option value=\"\">\($0)</option>"] } ?? []
        for project in projects where !project.hasArchivedAt {
            options.append("<option value=\"\(project.id)\"\(project.id == selected ? " selected" : "")>\(project.name)</option>")
        }
        return HTML.join(options)
    }

    static func names(_ projects: [Llmlab_V1_Project]) -> [String: String] {
        Dictionary(projects.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }
}
