// swift-tools-version:6.2
import PackageDescription

/// Settings every target shares: Swift 6 mode plus the upcoming features that keep
/// dependencies explicit (`InternalImportsByDefault`, `MemberImportVisibility`) and
/// existentials visible (`ExistentialAny`).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "llmlab",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "llmlab-server", targets: ["llmlab-server"]),
        .executable(name: "llmlab-admin", targets: ["llmlab-admin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Already in the graph through the two above; named because the gateway uses their
        // types (ByteBuffer, TimeAmount, HTTPHeaders, channel handlers; HTTPField) directly.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // MARK: Domain
        .target(
            name: "LLMLabCore",
            resources: [.embedInCode("Pricing/catalog.json")],
            swiftSettings: swiftSettings
        ),

        // MARK: Generated wire types (committed; `make proto` regenerates)
        .target(
            name: "LLMLabProto",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Security primitives
        .systemLibrary(
            name: "CArgon2",
            pkgConfig: "libargon2",
            providers: [.apt(["libargon2-dev"])]
        ),
        // zlib for gzip-encoded OTLP/HTTP bodies.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "LLMLabSecurity",
            dependencies: [
                "LLMLabCore",
                "CArgon2",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Persistence
        .target(
            name: "LLMLabTenantSchema",
            path: "tenants",
            resources: [.embedInCode("migrations")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LLMLabStore",
            dependencies: [
                "LLMLabCore",
                "LLMLabTenantSchema",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("ControlMigrations")],
            swiftSettings: swiftSettings
        ),

        // MARK: Edge
        .target(
            name: "LLMLabAPI",
            dependencies: [
                "LLMLabCore",
                "LLMLabBilling",
                "LLMLabProto",
                "LLMLabStore",
                "LLMLabSecurity",
                "LLMLabTracing",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // Alert webhooks: the deliverer POSTs signed payloads and runs as a Service.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // Email alert channels: the SMTP client (STARTTLS / implicit TLS).
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "LLMLabTracing",
            dependencies: [
                "LLMLabCore",
                "CZlib",
                "LLMLabProto",
                "LLMLabStore",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "LLMLabGateway",
            dependencies: [
                "LLMLabCore",
                "LLMLabStore",
                "LLMLabSecurity",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Billing (provider invoices: connectors, CSV imports, reconciliation math)
        .target(
            name: "LLMLabBilling",
            dependencies: [
                "LLMLabCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Dashboard (a gRPC client of the control plane, in process)
        .target(
            name: "LLMLabWeb",
            dependencies: [
                "LLMLabProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Composition
        .target(
            name: "LLMLabServer",
            dependencies: [
                "LLMLabCore",
                "LLMLabAPI",
                "LLMLabGateway",
                "LLMLabTracing",
                "LLMLabStore",
                "LLMLabSecurity",
                "LLMLabProto",
                "LLMLabWeb",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "llmlab-server",
            dependencies: [
                "LLMLabServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "llmlab-admin",
            dependencies: [
                "LLMLabProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "llmlab-bench-control",
            dependencies: [
                "LLMLabProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "ops/bench/control/Sources",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LLMLabBenchSupport",
            path: "ops/bench/support/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "llmlab-bench-proxy",
            dependencies: [
                "LLMLabBenchSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "ops/bench/proxy/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "llmlab-bench-ingest",
            dependencies: [
                "LLMLabBenchSupport",
                "LLMLabProto",
                "CZlib",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "ops/bench/ingest/Sources",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "LLMLabTestSupport",
            dependencies: [
                "LLMLabStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/LLMLabTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMLabCoreTests",
            dependencies: ["LLMLabCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMLabSecurityTests",
            dependencies: ["LLMLabSecurity", "LLMLabCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMLabStoreTests",
            dependencies: ["LLMLabStore", "LLMLabCore", "LLMLabTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMLabAPITests",
            dependencies: [
                "LLMLabAPI", "LLMLabServer", "LLMLabProto", "LLMLabStore", "LLMLabSecurity",
                "LLMLabCore", "LLMLabTestSupport", "LLMLabTracing", "LLMLabBilling",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                // A local webhook receiver for the alert tests.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                // A local SMTP sink (STARTTLS) for the email alert tests.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMLabBillingTests",
            dependencies: [
                "LLMLabBilling", "LLMLabCore",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // Fake billing APIs on loopback sockets.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMLabGatewayTests",
            dependencies: [
                "LLMLabGateway", "LLMLabStore", "LLMLabSecurity", "LLMLabCore", "LLMLabTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMLabTracingTests",
            dependencies: [
                "LLMLabTracing", "LLMLabCore", "LLMLabStore", "LLMLabProto", "LLMLabTestSupport",
                // The admin CLI's trace waterfall (it renders the wire `Span`s; tested here).
                "llmlab-admin",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMLabWebTests",
            dependencies: [
                "LLMLabWeb", "LLMLabAPI", "LLMLabProto", "LLMLabStore", "LLMLabSecurity", "LLMLabCore", "LLMLabTracing",
                "LLMLabTestSupport",
                // The dashboard as the server mounts it (composition + gateway listener).
                "LLMLabServer", "LLMLabGateway",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMLabServerTests",
            dependencies: [
                "LLMLabServer", "LLMLabTracing", "LLMLabTestSupport", "LLMLabGateway", "LLMLabSecurity", "LLMLabStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
