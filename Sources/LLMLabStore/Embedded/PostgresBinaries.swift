import Foundation

/// Where the PostgreSQL server programs (initdb, pg_ctl; pg_ctl finds `postgres` beside
/// itself) are: an explicit directory, else `LLMLAB_PG_BIN`, else the highest
/// `/usr/lib/postgresql/<major>/bin` (Debian's layout, preferring the major version an
/// existing cluster was created with), else `PATH`.
struct PostgresBinaries: Sendable, Hashable {
    var directory: String

    var initdb: String { self.directory + "/initdb" }
    var pgCtl: String { self.directory + "/pg_ctl" }

    static let notFoundMessage =
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package 'postgresql' (apt-get install postgresql) or set LLMLAB_DATABASE_URL"

    /// - Parameters:
    ///   - explicitDirectory: if set, the only directory searched.
    ///   - preferredMajor: the `PG_VERSION` of an existing cluster, if any.
    static func locate(
        explicitDirectory: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        debianRoot: String = "/usr/lib/postgresql",
        preferredMajor: Int? = nil
    ) throws -> PostgresBinaries {
        var searched: [String] = []
        func check(_ directory: String) -> PostgresBinaries? {
            searched.append(directory)
            let candidate = PostgresBinaries(directory: directory)
            return isExecutable(candidate.initdb) && isExecutable(candidate.pgCtl) ? candidate : nil
        }

        if let explicitDirectory {
            if let found = check(explicitDirectory) { return found }
            throw notFound(searched)
        }
        if let fromEnvironment = environment["LLMLAB_PG_BIN"], !fromEnvironment.isEmpty {
            if let found = check(fromEnvironment) { return found }
            throw notFound(searched)
        }
        let majors = ((try? FileManager.default.contentsOfDirectory(atPath: debianRoot)) ?? [])
            .compactMap { Int($0) }
            .sorted(by: >)
        var ordered = majors
        if let preferredMajor, let index = ordered.firstIndex(of: preferredMajor) {
            ordered.remove(at: index)
            ordered.insert(preferredMajor, at: 0)
        }
        for major in ordered {
            if let found = check("\(debianRoot)/\(major)/bin") { return found }
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":").map(String.init) where !directory.isEmpty {
            if let found = check(directory) { return found }
        }
        throw notFound(searched)
    }

    static func notFound(_ searched: [String]) -> StoreError {
        var message = notFoundMessage
        if !searched.isEmpty {
            message += " (looked in: \(searched.joined(separator: ", ")))"
        }
        return StoreError(code: .invalidConfiguration, message: message)
    }

    /// The major version these binaries belong to, from `pg_ctl --version`
    /// ("pg_ctl (PostgreSQL) 15.8 ...").
    func majorVersion(runAs prefix: [String]) async -> Int? {
        guard let result = try? await Subprocess.run(prefix + [self.pgCtl, "--version"]), result.succeeded else { return nil }
        guard let versionWord = result.output.split(separator: " ").first(where: { $0.first?.isNumber == true }) else { return nil }
        return Int(versionWord.prefix { $0.isNumber })
    }
}
