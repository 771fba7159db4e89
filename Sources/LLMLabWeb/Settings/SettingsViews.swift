import Foundation
import LLMLabProto
import SwiftProtobuf

/// Projects: create, set the monthly budget, archive.
struct ProjectSettingsView {
    var session: DashboardSession
    var projects: [Llmlab_V1_Project]

    func render() -> HTML {
        let create: HTML = session.canManage ? SettingsHTML.form("/ui/settings/projects", csrf: session.csrf, testID: "create-project-form",
                                                                 css: "stack", """
            <label>Name <input name="name" required maxlength="100"></label>\
            <label>Monthly budget (USD) <input name="monthly_budget_usd" inputmode="decimal" placeholder="e.g. 250"></label>\
            <button type="submit" class="primary">Create project</button>
            """) : .empty
        guard !projects.isEmpty else { return create + Layout.empty("No projects yet.") }
        let rows = projects.map { project -> HTML in
            var actions: HTML = .empty
            if session.canManage && !project.hasArchivedAt {
                actions = SettingsHTML.form("/ui/settings/projects/\(project.id)/budget", csrf: session.csrf, testID: "project-budget-form", """
                    <input name="monthly_budget_usd" value="\(project.monthlyBudgetUsd)" placeholder="no budget" aria-label="monthly budget">\
                    <button type="submit">Set budget</button>
                    """)
                    + SettingsHTML.form("/ui/settings/projects/\(project.id)/archive", csrf: session.csrf, testID: "project-archive-form",
                                        confirm: "Archive project \(project.name)? Its keys stop working.",
                                        "<button type=\"submit\" class=\"danger\">Archive</button>")
            }
            return """
            <tr data-testid="project-settings-row" data-project-id="\(project.id)"><td>\(project.name)</td>\
            <td class="num">\(Money.html(project.monthlyBudgetUsd))</td><td>\(UTCTime.html(project.createdAt))</td>\
            <td>\(project.hasArchivedAt ? "archived" : "active")</td><td class="actions">\(actions)</td></tr>
            """
        }
        return create + """
        <table class="data" data-testid="project-settings-table"><thead><tr><th>Name</th><th class="num">Monthly budget</th>\
        <th>Created</th><th>State</th><th></th></tr></thead><tbody>\(rows)</tbody></table>
        """
    }
}

/// API keys: masked (prefix only), create (the secret shown once), budget, revoke.
struct ApiKeySettingsView {
    var session: DashboardSession
    var keys: [Llmlab_V1_ApiKey]
    var projects: [Llmlab_V1_Project]

    static func roleName(_ role: Llmlab_V1_Role) -> String {
        switch role {
        case .viewer: "viewer"
        case .member: "member"
        case .admin: "admin"
        case .owner: "owner"
        default: "—"
        }
    }

    func render() -> HTML {
        let names = SettingsHTML.names(projects)
        let create: HTML = session.canWriteKeys ? SettingsHTML.form("/ui/settings/keys", csrf: session.csrf, testID: "create-key-form",
                                                                    css: "stack", """
            <label>Name <input name="name" required maxlength="100"></label>\
            <label>Role <select name="role"><option value="viewer">viewer</option><option value="member" selected>member</option>\
            <option value="admin">admin</option></select></label>\
            <label>Project <select name="project_id">\(SettingsHTML.projectOptions(projects, none: "Every project"))</select></label>\
            <fieldset class="checks"><legend>Scopes</legend><label><input type="checkbox" name="scopes" value="control" checked> control</label>\
            <label><input type="checkbox" name="scopes" value="proxy"> proxy</label>\
            <label><input type="checkbox" name="scopes" value="ingest"> ingest</label></fieldset>\
            <label>Monthly budget (USD, proxy keys) <input name="monthly_budget_usd" inputmode="decimal"></label>\
            <button type="submit" class="primary">Create key</button>
            """) : .empty
        guard !keys.isEmpty else { return create + Layout.empty("No API keys.") }
        let rows = keys.map { key -> HTML in
            var actions: HTML = .empty
            if session.canWriteKeys && !key.hasRevokedAt {
                if key.scopes.contains("proxy") {
                    actions += SettingsHTML.form("/ui/settings/keys/\(key.id)/budget", csrf: session.csrf, testID: "key-budget-form", """
                        <input name="monthly_budget_usd" value="\(key.monthlyBudgetUsd)" placeholder="no budget" aria-label="monthly budget">\
                        <button type="submit">Set budget</button>
                        """)
                }
                actions += SettingsHTML.form("/ui/settings/keys/\(key.id)/revoke", csrf: session.csrf, testID: "key-revoke-form",
                                             confirm: "Revoke API key \(key.name)? Clients using it stop working.",
                                             "<button type=\"submit\" class=\"danger\">Revoke</button>")
            }
            return """
            <tr data-testid="key-row" data-key-id="\(key.id)"><td>\(key.name)</td><td class="mono">\(key.prefix)…</td>\
            <td>\(Self.roleName(key.role))</td><td>\(key.projectID.isEmpty ? "every project" : names[key.projectID] ?? key.projectID)</td>\
            <td>\(key.scopes.joined(separator: ", "))</td><td class="num">\(Money.html(key.monthlyBudgetUsd))</td>\
            <td>\(UTCTime.html(key.lastUsedAt))</td><td>\(key.hasRevokedAt ? "revoked" : "active")</td><td class="actions">\(actions)</td></tr>
            """
        }
        return create + """
        <table class="data" data-testid="key-table"><thead><tr><th>Name</th><th>Key</th><th>Role</th><th>Project</th><th>Scopes</th>\
        <th class="num">Monthly budget</th><th>Last used</th><th>State</th><th></th></tr></thead><tbody>\(rows)</tbody></table>
        """
    }
}

/// Provider keys: masked list (last four), delete. Adding a key stays in the CLI, where
/// the secret does not pass through a browser.
struct ProviderKeySettingsView {
    var session: DashboardSession
    var keys: [Llmlab_V1_ProviderKey]
    var projects: [Llmlab_V1_Project]

    func render() -> HTML {
        guard !keys.isEmpty else { return Layout.empty("No provider keys. Add one with: llmlab-admin key put") }
        let names = SettingsHTML.names(projects)
        let rows = keys.map { key -> HTML in
            let actions: HTML = session.canManage
                ? SettingsHTML.form("/ui/settings/provider-keys/\(key.id)/delete", csrf: session.csrf, testID: "provider-key-delete-form",
                                    confirm: "Delete provider key \(key.name)? Routes using it stop working.",
                                    "<button type=\"submit\" class=\"danger\">Delete</button>")
                : .empty
            let azure: HTML = key.hasAzure ? "<span class=\"mono\">\(key.azure.endpoint) · \(key.azure.deployment)</span>" : .empty
            return """
            <tr data-testid="provider-key-row" data-provider-key-id="\(key.id)"><td>\(names[key.projectID] ?? key.projectID)</td>\
            <td>\(SettingsForms.providerName(key.provider))</td><td>\(key.name)</td><td class="mono">••••\(key.lastFour)</td>\
            <td>\(azure)</td><td>\(UTCTime.html(key.hasRotatedAt ? key.rotatedAt : key.createdAt))</td>\
            <td class="mono">\(key.id)</td><td class="actions">\(actions)</td></tr>
            """
        }
        return """
        <table class="data" data-testid="provider-key-table"><thead><tr><th>Project</th><th>Provider</th><th>Name</th><th>Key</th>\
        <th>Azure</th><th>Set</th><th>Id</th><th></th></tr></thead><tbody>\(rows)</tbody></table>
        """
    }
}

/// Routes: list, set (create or replace), delete.
struct RouteSettingsView {
    var session: DashboardSession
    var routes: [Llmlab_V1_Route]
    var providerKeys: [Llmlab_V1_ProviderKey]
    var projects: [Llmlab_V1_Project]

    func render() -> HTML {
        let names = SettingsHTML.names(projects)
        let keyNames = Dictionary(providerKeys.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let keyHint = providerKeys.map { "\(names[$0.projectID] ?? "?")/\(SettingsForms.providerName($0.provider))/\($0.name) = \($0.id)" }
            .joined(separator: "\n")
        let set: HTML = session.canManage ? SettingsHTML.form("/ui/settings/routes", csrf: session.csrf, testID: "set-route-form", css: "stack", """
            <label>Project <select name="project_id" required>\(SettingsHTML.projectOptions(projects))</select></label>\
            <label>Alias (model name apps send) <input name="alias" required maxlength="200"></label>\
            <label>Strategy <select name="strategy"><option value="weighted">weighted</option>\
            <option value="least_latency">least latency</option></select></label>\
            <label class="wide">Deployments, one per line: provider model provider_key_id [weight] [priority]\
            <textarea name="deployments" required placeholder="openai gpt-4o 0b6e…  1 0"></textarea></label>\
            <button type="submit" class="primary">Save route</button>
            """) + (providerKeys.isEmpty ? .empty : "<details><summary>Provider key ids</summary><pre>\(keyHint)</pre></details>") : .empty
        guard !routes.isEmpty else { return set + Layout.empty("No routes.") }
        let rows = routes.map { route -> HTML in
            let deployments = route.deployments.map { d -> HTML in
                "<li>\(SettingsForms.providerName(d.provider)) <span class=\"mono\">\(d.model)</span> via \(keyNames[d.providerKeyID] ?? d.providerKeyID) · weight \(d.weight) · priority \(d.priority)</li>"
            }
            let actions: HTML = session.canManage
                ? SettingsHTML.form("/ui/settings/routes/\(route.id)/delete", csrf: session.csrf, testID: "route-delete-form",
                                    confirm: "Delete route \(route.alias)?", "<button type=\"submit\" class=\"danger\">Delete</button>")
                : .empty
            return """
            <tr data-testid="route-row" data-route-id="\(route.id)"><td>\(names[route.projectID] ?? route.projectID)</td>\
            <td class="mono">\(route.alias)</td><td>\(route.strategy == .leastLatency ? "least latency" : "weighted")</td>\
            <td><ul class="plain">\(deployments)</ul></td><td class="actions">\(actions)</td></tr>
            """
        }
        return set + """
        <table class="data" data-testid="route-table"><thead><tr><th>Project</th><th>Alias</th><th>Strategy</th><th>Deployments</th>\
        <th></th></tr></thead><tbody>\(rows)</tbody></table>
        """
    }
}

