import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `key …`: upstream provider credentials. Secrets go in (from stdin or a hidden prompt,
/// never argv) and never come out: lists show the last four characters.
struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Store, list and delete provider keys (OpenAI, Azure OpenAI, Anthropic, Gemini).",
        subcommands: [Put.self, List.self, Delete.self]
    )

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a provider key for a project, or rotate it if (project, provider, name) exists.",
            discussion: """
                The secret is read from stdin when stdin is not a terminal \
                (e.g. llmlab-admin key put --project ID --provider openai < key.txt), \
                otherwise prompted for with echo off. It is never accepted as an argument.
                """
        )

        @Option(help: "The project's id.")
        var project: String

        @Option(help: "openai, azure_openai, anthropic or gemini.")
        var provider: ProviderArgument

        @Option(help: "Distinguishes several keys of one provider in a project (default \"default\").")
        var name: String?

        @Option(name: .customLong("azure-endpoint"), help: ArgumentHelp(
            "Azure OpenAI resource endpoint, e.g. https://my-resource.openai.azure.com.", valueName: "url"))
        var azureEndpoint: String?

        @Option(name: .customLong("azure-deployment"), help: "Azure OpenAI deployment name.")
        var azureDeployment: String?

        @Option(name: .customLong("azure-api-version"), help: ArgumentHelp(
            "Azure OpenAI API version, e.g. 2024-10-21.", valueName: "version"))
        var azureAPIVersion: String?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            let azureOptions = [azureEndpoint, azureDeployment, azureAPIVersion]
            if provider == .azureOpenAI {
                guard azureOptions.allSatisfy({ !($0 ?? "").isEmpty }) else {
                    throw ValidationError(
                        "azure_openai keys need --azure-endpoint, --azure-deployment and --azure-api-version")
                }
            } else if azureOptions.contains(where: { $0 != nil }) {
                throw ValidationError("--azure-* options only apply to --provider azure_openai")
            }
        }

        func run() async throws {
            let secret = try Terminal.readSecret("\(provider.rawValue) API key")
            let request = Llmlab_V1_PutProviderKeyRequest.with {
                $0.projectID = project
                $0.provider = provider.wire
                $0.name = name ?? ""
                $0.secret = secret
                if provider == .azureOpenAI {
                    $0.azure = .with {
                        $0.endpoint = azureEndpoint ?? ""
                        $0.deployment = azureDeployment ?? ""
                        $0.apiVersion = azureAPIVersion ?? ""
                    }
                }
            }
            let key = try await global.withAuthenticatedClient { client in
                try await client.providerKeys.putProviderKey(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(key) { ProviderKeyView.details(key).print() }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List provider keys (masked).")

        @Option(help: "Only this project's keys.")
        var project: String?

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_ListProviderKeysRequest.with { $0.projectID = project ?? "" }
            let response = try await global.withAuthenticatedClient { client in
                try await client.providerKeys.listProviderKeys(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.providerKeys, emptyText: "No provider keys.") { keys in
                var table = Table("ID", "PROJECT", "PROVIDER", "NAME", "SECRET", "CREATED", "ROTATED", "AZURE")
                for key in keys {
                    table.add(
                        key.id, key.projectID, Display.provider(key.provider), key.name,
                        ProviderKeyView.masked(key.lastFour),
                        Display.timestamp(key.createdAt, isSet: key.hasCreatedAt),
                        Display.timestamp(key.rotatedAt, isSet: key.hasRotatedAt),
                        key.hasAzure ? ProviderKeyView.azure(key.azure) : "")
                }
                return table
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a provider key.")

        @Argument(help: "The key's id (see `key list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_DeleteProviderKeyRequest.with { $0.id = id }
            let response = try await global.withAuthenticatedClient { client in
                try await client.providerKeys.deleteProviderKey(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { print("Deleted provider key \(id).") }
        }
    }
}

/// How one provider key reads; the secret only ever as its last four characters.
enum ProviderKeyView {
    static func masked(_ lastFour: String) -> String {
        lastFour.isEmpty ? Display.none : "…\(lastFour)"
    }

    static func azure(_ target: Llmlab_V1_AzureTarget) -> String {
        "\(target.endpoint) deployment=\(target.deployment) api-version=\(target.apiVersion)"
    }

    static func details(_ key: Llmlab_V1_ProviderKey) -> Details {
        var details = Details()
        details.add("id", key.id)
        details.add("project", key.projectID)
        details.add("provider", Display.provider(key.provider))
        details.add("name", key.name)
        details.add("secret", masked(key.lastFour))
        if key.hasAzure { details.add("azure", azure(key.azure)) }
        details.add("created", Display.timestamp(key.createdAt, isSet: key.hasCreatedAt))
        details.add("rotated", Display.timestamp(key.rotatedAt, isSet: key.hasRotatedAt))
        return details
    }
}
