import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `user …`: the people of the caller's tenant.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add, list, re-role and remove the users of your tenant.",
        subcommands: [Add.self, List.self, SetRole.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user to your tenant.",
            discussion: "The new user's password (at least 12 characters) is read from stdin, or prompted for twice with echo off."
        )

        @Argument(help: "The user's email address.")
        var email: String

        @Option(help: "viewer, member, admin or owner.")
        var role: RoleArgument

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let password = try Terminal.readSecret("Password for \(email)", confirm: true)
            let request = Llmlab_V1_AddUserRequest.with {
                $0.email = email
                $0.password = password
                $0.role = role.wire
            }
            let user = try await global.withAuthenticatedClient { client in
                try await client.users.addUser(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(user) { UserView.details(user).print() }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users of your tenant.")

        @OptionGroup var page: LimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let users = try await global.withAuthenticatedClient { client in
                try await Pager.collect(limit: page.limit) { token, size in
                    let page = try await client.users.listUsers(
                        .with { $0.pageToken = token; $0.pageSize = size },
                        metadata: client.metadata, options: client.options)
                    return (page.users, page.nextPageToken)
                }
            }
            try global.output.emitList(users, emptyText: "No users.") { users in
                var table = Table("ID", "EMAIL", "ROLE", "CREATED")
                for user in users {
                    table.add(
                        user.id, user.email, Display.role(user.role),
                        Display.timestamp(user.createdAt, isSet: user.hasCreatedAt))
                }
                return table
            }
        }
    }

    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-role",
            abstract: "Change a user's role (the last owner cannot be demoted)."
        )

        @Argument(help: "The user's id (see `user list`).")
        var userID: String

        @Argument(help: "viewer, member, admin or owner.")
        var role: RoleArgument

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_SetRoleRequest.with {
                $0.userID = userID
                $0.role = role.wire
            }
            let user = try await global.withAuthenticatedClient { client in
                try await client.users.setRole(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(user) { UserView.details(user).print() }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user from your tenant (the last owner cannot be removed).")

        @Argument(help: "The user's id (see `user list`).")
        var userID: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_RemoveUserRequest.with { $0.userID = userID }
            let response = try await global.withAuthenticatedClient { client in
                try await client.users.removeUser(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { print("Removed user \(userID).") }
        }
    }
}

/// How one user reads as a key/value block.
enum UserView {
    static func details(_ user: Llmlab_V1_User) -> Details {
        var details = Details()
        details.add("id", user.id)
        details.add("email", user.email)
        details.add("role", Display.role(user.role))
        details.add("created", Display.timestamp(user.createdAt, isSet: user.hasCreatedAt))
        return details
    }
}
