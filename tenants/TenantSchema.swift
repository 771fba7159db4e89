public enum TenantSchema {}
