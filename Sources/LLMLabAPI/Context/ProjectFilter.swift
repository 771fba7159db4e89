public import Foundation
import LLMLabCore
import LLMLabStore
import Logging
import PostgresNIO

/// The optional `project_id` filter of a list call, as the caller may use it: a
/// project-scoped key is narrowed to its own project, and asking for any other project —
/// another tenant's, or another project for a scoped key — is `notFound`, never an empty page.
struct ProjectFilter: Sendable {
    /// The project to narrow to; `nil` lists the whole tenant.
    let projectID: UUID?
    /// Whether the caller named the project (then it must exist).
    let named: Bool

    init(_ requested: String, principal: Principal, field: String = "project_id") throws {
        let id = try Validate.optionalID(requested, field: field)
        if let id, !principal.mayAccess(project: id) { throw APIError.notFound("project", requested) }
        projectID = id ?? principal.projectID
        named = id != nil
    }

    /// Inside the tenant transaction: a named project must exist in this tenant.
    func check(on connection: PostgresConnection, logger: Logger) async throws {
        guard named, let projectID else { return }
        if try await ProjectRepository(connection, logger: logger).find(id: projectID) == nil {
            throw APIError.notFound("project", projectID.uuidString.lowercased())
        }
    }
}
