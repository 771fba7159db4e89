import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `tenant …`: provisioning, for the platform operator.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Create, list, suspend, resume and delete tenants (operator only).",
        subcommands: [Create.self, List.self, Suspend.self, Resume.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant with its owner account.",
            discussion: "The owner's password (at least 12 characters) is read from stdin, or prompted for twice with echo off."
        )

        @Argument(help: "3-40 lowercase letters, digits and single hyphens, starting with a letter.")
        var slug: String

        @Option(help: "Display name.")
        var name: String

        @Option(name: .customLong("owner-email"), help: "Email of the tenant's first owner.")
        var ownerEmail: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let password = try Terminal.readSecret("Owner password", confirm: true)
            let request = Llmlab_V1_CreateTenantRequest.with {
                $0.slug = slug
                $0.displayName = name
                $0.ownerEmail = ownerEmail
                $0.ownerPassword = password
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.tenants.createTenant(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                var details = TenantView.details(response.tenant)
                details.add("owner", "\(ownerEmail) (\(response.ownerUserID))")
                details.print()
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")

        @OptionGroup var page: LimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let tenants = try await global.withAuthenticatedClient { client in
                try await Pager.collect(limit: page.limit) { token, size in
                    let page = try await client.tenants.listTenants(
                        .with { $0.pageToken = token; $0.pageSize = size },
                        metadata: client.metadata, options: client.options)
                    return (page.tenants, page.nextPageToken)
                }
            }
            try global.output.emitList(tenants, emptyText: "No tenants.") { tenants in
                var table = Table("SLUG", "NAME", "STATUS", "CREATED", "ID", "SUSPENDED BECAUSE")
                for tenant in tenants {
                    table.add(
                        tenant.slug, tenant.displayName, Display.tenantStatus(tenant.status),
                        Display.timestamp(tenant.createdAt, isSet: tenant.hasCreatedAt), tenant.id,
                        tenant.status == .suspended ? Display.text(tenant.suspendedReason) : "")
                }
                return table
            }
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suspend a tenant: its data stays, its users' calls are refused.")

        @Argument(help: "The tenant's slug.")
        var slug: String

        @Option(help: "Why, shown to the operator in `tenant list`.")
        var reason: String?

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_SuspendTenantRequest.with {
                $0.slug = slug
                $0.reason = reason ?? ""
            }
            let tenant = try await global.withAuthenticatedClient { client in
                try await client.tenants.suspendTenant(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(tenant) { TenantView.details(tenant).print() }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a suspended tenant.")

        @Argument(help: "The tenant's slug.")
        var slug: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_ResumeTenantRequest.with { $0.slug = slug }
            let tenant = try await global.withAuthenticatedClient { client in
                try await client.tenants.resumeTenant(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(tenant) { TenantView.details(tenant).print() }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a tenant and all its data. This cannot be undone.")

        @Argument(help: "The tenant's slug.")
        var slug: String

        @Option(help: "Repeat the slug to confirm.")
        var confirm: String

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard confirm == slug else {
                throw ValidationError("--confirm must repeat the slug exactly (\(slug)) to delete the tenant")
            }
        }

        func run() async throws {
            let request = Llmlab_V1_DeleteTenantRequest.with {
                $0.slug = slug
                $0.confirmSlug = confirm
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.tenants.deleteTenant(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { print("Deleted tenant \(slug) and all its data.") }
        }
    }
}

/// How one tenant reads as a key/value block.
enum TenantView {
    static func details(_ tenant: Llmlab_V1_Tenant) -> Details {
        var details = Details()
        details.add("slug", tenant.slug)
        details.add("name", tenant.displayName)
        details.add("id", tenant.id)
        details.add("status", Display.tenantStatus(tenant.status))
        if tenant.status == .suspended { details.add("reason", Display.text(tenant.suspendedReason)) }
        details.add("created", Display.timestamp(tenant.createdAt, isSet: tenant.hasCreatedAt))
        return details
    }
}
