/// A caller's standing inside one tenant. Roles are totally ordered so that "no higher
/// than the caller's" checks (API keys, role changes) are a single comparison.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case viewer
    case member
    case admin
    case owner

    /// Position in the order viewer < member < admin < owner.
    public var rank: Int {
        switch self {
        case .viewer: 0
        case .member: 1
        case .admin: 2
        case .owner: 3
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}
