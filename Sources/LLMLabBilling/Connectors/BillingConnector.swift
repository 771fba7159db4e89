/// A source of what a provider billed. The extension point for new providers: a connector
/// fetches the days of a period, follows the provider's paging to the end and returns
/// normalised lines (the caller stores them, replacing that period).
public protocol BillingConnector: Sendable {
    /// The provider spelling the lines carry (`openai`, `anthropic`, `azure_openai`).
    var provider: String { get }
    func fetch(_ period: BillingPeriod) async throws -> [BilledLine]
}

/// Which billing API a connection pulls from.
public enum BillingConnectionKind: String, Sendable, Hashable, CaseIterable {
    case openai
    case anthropic
    case azure

    /// The provider spelling of the lines it produces.
    public var provider: String {
        switch self {
        case .openai: "openai"
        case .anthropic: "anthropic"
        case .azure: "azure_openai"
        }
    }

    /// Setting names a connection of this kind accepts (all optional unless listed in
    /// ``requiredSettings``). `base_url` points the connector elsewhere (a proxy, a fake).
    public var allowedSettings: Set<String> {
        switch self {
        case .openai: ["base_url", "organization", "project_id"]
        case .anthropic: ["base_url", "anthropic_version"]
        case .azure: ["base_url", "scope", "tenant_id", "client_id", "token_url", "resource_filter"]
        }
    }

    public var requiredSettings: Set<String> {
        switch self {
        case .openai, .anthropic: []
        case .azure: ["scope", "tenant_id", "client_id"]
        }
    }
}

/// Builds the connector for a stored connection.
public enum BillingConnectors {
    /// `credential` is the admin key (OpenAI, Anthropic) or the client secret (Azure).
    public static func make(kind: BillingConnectionKind, settings: [String: String], credential: String,
                            http: BillingHTTPClient) throws(BillingError) -> any BillingConnector {
        for required in kind.requiredSettings where (settings[required] ?? "").isEmpty {
            throw BillingError(.configuration, "\(kind.rawValue) connections need the setting \(required)")
        }
        switch kind {
        case .openai:
            var configuration = OpenAIBillingConnector.Configuration.defaults
            if let base = settings["base_url"], !base.isEmpty { configuration.baseURL = base }
            configuration.organization = settings["organization"].flatMap { $0.isEmpty ? nil : $0 }
            configuration.projectID = settings["project_id"].flatMap { $0.isEmpty ? nil : $0 }
            return OpenAIBillingConnector(adminKey: credential, configuration: configuration, http: http)
        case .anthropic:
            var configuration = AnthropicBillingConnector.Configuration.defaults
            if let base = settings["base_url"], !base.isEmpty { configuration.baseURL = base }
            if let version = settings["anthropic_version"], !version.isEmpty { configuration.anthropicVersion = version }
            return AnthropicBillingConnector(adminKey: credential, configuration: configuration, http: http)
        case .azure:
            var configuration = AzureBillingConnector.Configuration(
                scope: settings["scope"] ?? "", tenantID: settings["tenant_id"] ?? "", clientID: settings["client_id"] ?? "")
            if let base = settings["base_url"], !base.isEmpty { configuration.baseURL = base }
            if let token = settings["token_url"], !token.isEmpty { configuration.tokenURL = token }
            if let filter = settings["resource_filter"], !filter.isEmpty {
                configuration.serviceNames = filter.split(separator: ",").map { String($0).trimmingSpaces }
            }
            return AzureBillingConnector(clientSecret: credential, configuration: configuration, http: http)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }

    /// The URL with one trailing slash removed, so paths join cleanly.
    var withoutTrailingSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}
