import Foundation
import GRPCCore
import Hummingbird
import LLMLabProto
import SwiftProtobuf

/// `/ui/settings/...`: one page per kind of thing (projects, API keys, provider keys,
/// routes, alert channels) and one POST per change. Forms are shown to roles that may
/// use them; every change is still the RPC's decision (a viewer's POST is refused by the
/// control plane and shown as the 403 page).
extension DashboardController {
    func addSettingsRoutes(_ routes: RouteCollection<Context>) {
        routes.get("settings") { _, _ in PageResponse.redirect("/ui/settings/projects") }
        for section in SettingsSection.allCases {
            routes.get("settings/\(section.rawValue)") { request, _ in
                await self.page(request) { try await self.settingsPage($0, section) }
            }
        }
        // Projects
        post(routes, "settings/projects", .projects) { session, form, _ in
            _ = try await rpc.projects.createProject(.with {
                $0.name = form["name"]
                $0.monthlyBudgetUsd = form["monthly_budget_usd"]
            }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/projects")
        }
        post(routes, "settings/projects/:id/budget", .projects) { session, form, id in
            _ = try await rpc.projects.updateProject(.with {
                $0.id = id
                $0.monthlyBudgetUsd = form["monthly_budget_usd"]
            }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/projects")
        }
        post(routes, "settings/projects/:id/archive", .projects) { session, _, id in
            _ = try await rpc.projects.archiveProject(.with { $0.id = id }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/projects")
        }
        // API keys
        post(routes, "settings/keys", .keys) { session, form, _ in
            let created = try await rpc.auth.createApiKey(SettingsForms.createApiKey(form), metadata: session.metadata, options: rpc.options)
            return .page(try await settingsPage(session, .keys, notice: .secret(
                label: "API key “\(created.apiKey.name)” was created.", value: created.secret)))
        }
        post(routes, "settings/keys/:id/budget", .keys) { session, form, id in
            _ = try await rpc.auth.updateApiKey(.with {
                $0.id = id
                $0.monthlyBudgetUsd = form["monthly_budget_usd"]
            }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/keys")
        }
        post(routes, "settings/keys/:id/revoke", .keys) { session, _, id in
            _ = try await rpc.auth.revokeApiKey(.with { $0.id = id }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/keys")
        }
        // Provider keys
        post(routes, "settings/provider-keys/:id/delete", .providerKeys) { session, _, id in
            _ = try await rpc.providerKeys.deleteProviderKey(.with { $0.id = id }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/provider-keys")
        }
        // Routes
        post(routes, "settings/routes", .routes) { session, form, _ in
            _ = try await rpc.routes.setRoute(try SettingsForms.setRoute(form), metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/routes")
        }
        post(routes, "settings/routes/:id/delete", .routes) { session, _, id in
            _ = try await rpc.routes.deleteRoute(.with { $0.id = id }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/routes")
        }
        // Alert channels
        post(routes, "settings/alerts", .alerts) { session, form, _ in
            let created = try await rpc.alerts.createChannel(SettingsForms.createChannel(form), metadata: session.metadata, options: rpc.options)
            guard !created.secret.isEmpty else { return .redirect("/ui/settings/alerts") }
            return .page(try await settingsPage(session, .alerts, notice: .secret(
                label: "Channel “\(created.channel.name)” was created. Its signing secret verifies X-LLMLab-Signature.",
                value: created.secret)))
        }
        post(routes, "settings/alerts/:id/disable", .alerts) { session, _, id in
            _ = try await rpc.alerts.updateChannel(.with { $0.id = id; $0.disabled = true }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/alerts")
        }
        post(routes, "settings/alerts/:id/enable", .alerts) { session, _, id in
            _ = try await rpc.alerts.updateChannel(.with { $0.id = id; $0.disabled = false }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/alerts")
        }
        post(routes, "settings/alerts/:id/rotate", .alerts) { session, _, id in
            let rotated = try await rpc.alerts.rotateChannelSecret(.with { $0.id = id }, metadata: session.metadata, options: rpc.options)
            return .page(try await settingsPage(session, .alerts, notice: .secret(
                label: "Channel “\(rotated.channel.name)” has a new signing secret; the old one no longer signs.", value: rotated.secret)))
        }
        post(routes, "settings/alerts/rules", .alerts) { session, form, _ in
            _ = try await rpc.alerts.setAlertRule(try SettingsForms.setAlertRule(form), metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/alerts")
        }
        post(routes, "settings/alerts/rules/:id/delete", .alerts) { session, _, id in
            _ = try await rpc.alerts.deleteAlertRule(.with { $0.id = id }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/alerts")
        }
        post(routes, "settings/alerts/:id/delete", .alerts) { session, _, id in
            _ = try await rpc.alerts.deleteChannel(.with { $0.id = id }, metadata: session.metadata, options: rpc.options)
            return .redirect("/ui/settings/alerts")
        }
        post(routes, "settings/alerts/:id/test", .alerts) { session, _, id in
            let delivery = try await rpc.alerts.testChannel(.with { $0.id = id }, metadata: session.metadata, options: rpc.options)
            return .page(try await settingsPage(session, .alerts, notice: .info("A test alert was queued (delivery \(delivery.deliveryID)); see Alerts for the result.")))
        }
    }

    /// One form route: `:id` (when present) handed to the body; a validation error shows
    /// `section`'s page with the message.
    private func post(_ routes: RouteCollection<Context>, _ path: RouterPath, _ section: SettingsSection,
                      _ body: @escaping @Sendable (DashboardSession, FormData, String) async throws -> FormOutcome) {
        routes.post(path) { request, context in
            let id = context.parameters.get("id") ?? ""
            return await self.form(request, context, invalid: { session, message in
                try await self.settingsPage(session, section, notice: .error(message))
            }) { session, form in
                try await body(session, form, id)
            }
        }
    }
}

/// Turning form fields into requests, where a field needs more than copying.
enum SettingsForms {
    static func createApiKey(_ form: FormData) -> Llmlab_V1_CreateApiKeyRequest {
        .with {
            $0.name = form["name"]
            $0.role = role(form["role"]) ?? .member
            $0.projectID = form["project_id"]
            $0.scopes = form.all("scopes").filter { !$0.isEmpty }
            $0.monthlyBudgetUsd = form["monthly_budget_usd"]
        }
    }

    static func createChannel(_ form: FormData) -> Llmlab_V1_CreateChannelRequest {
        .with {
            $0.name = form["name"]
            switch form["kind"] {
            case "slack": $0.kind = .slack
            case "email": $0.kind = .email
            default: $0.kind = .webhook
            }
            if $0.kind == .email {
                $0.recipients = form["recipients"].split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            } else {
                $0.url = form["url"]
            }
        }
    }

    /// `subject` is `project:<id>` or `key:<id>`; thresholds are comma-separated percentages.
    static func setAlertRule(_ form: FormData) throws -> Llmlab_V1_SetAlertRuleRequest {
        let subject = form["subject"].split(separator: ":", maxSplits: 1).map(String.init)
        guard subject.count == 2, ["project", "key"].contains(subject[0]) else {
            throw DashboardError.invalid("choose the project or API key the rule is for")
        }
        var thresholds: [Int32] = []
        for part in form["thresholds"].split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
            guard let value = Int32(part.trimmingCharacters(in: CharacterSet(charactersIn: "%"))) else {
                throw DashboardError.invalid("thresholds: “\(part)” is not a whole percentage; write e.g. 50, 80, 100")
            }
            thresholds.append(value)
        }
        return .with {
            if subject[0] == "project" { $0.projectID = subject[1] } else { $0.apiKeyID = subject[1] }
            $0.thresholds = thresholds
            $0.noThresholds = form["no_thresholds"] == "on"
            $0.forecast = form["forecast"] == "on"
            $0.spikeFactor = form["spike_factor"]
            $0.spikeMinUsd = form["spike_min_usd"]
        }
    }

    static func role(_ name: String) -> Llmlab_V1_Role? {
        switch name {
        case "viewer": .viewer
        case "member": .member
        case "admin": .admin
        case "owner": .owner
        default: nil
        }
    }

    static func provider(_ name: String) -> Llmlab_V1_Provider? {
        switch name.lowercased() {
        case "openai": .openai
        case "azure_openai", "azure": .azureOpenai
        case "anthropic": .anthropic
        case "gemini": .gemini
        default: nil
        }
    }

    static func providerName(_ provider: Llmlab_V1_Provider) -> String {
        switch provider {
        case .openai: "openai"
        case .azureOpenai: "azure_openai"
        case .anthropic: "anthropic"
        case .gemini: "gemini"
        default: "unknown"
        }
    }

    /// Deployments, one per line: `provider model provider_key_id [weight] [priority]`.
    static func setRoute(_ form: FormData) throws -> Llmlab_V1_SetRouteRequest {
        var deployments: [Llmlab_V1_RouteDeployment] = []
        let lines = (form.raw("deployments") ?? "").split(whereSeparator: \.isNewline).map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        for (index, line) in lines.enumerated() {
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard (3...5).contains(words.count), let provider = provider(words[0]) else {
                throw DashboardError.invalid(
                    "deployment line \(index + 1) must read “provider model provider_key_id [weight] [priority]” with provider openai, azure_openai, anthropic or gemini")
            }
            let weight = words.count > 3 ? Int32(words[3]) : 0
            let priority = words.count > 4 ? Int32(words[4]) : 0
            guard let weight, let priority else {
                throw DashboardError.invalid("deployment line \(index + 1): weight and priority must be whole numbers")
            }
            deployments.append(.with {
                $0.provider = provider
                $0.model = words[1]
                $0.providerKeyID = words[2]
                $0.weight = weight
                $0.priority = priority
            })
        }
        return .with {
            $0.projectID = form["project_id"]
            $0.alias = form["alias"]
            $0.strategy = form["strategy"] == "least_latency" ? .leastLatency : .weighted
            $0.deployments = deployments
        }
    }
}
