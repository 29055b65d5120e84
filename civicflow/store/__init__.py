"""The line-of-business store (業務データベース): schema, sessions, repositories."""
