"""The childcare process (産前産後家事・育児支援サービス): the application form and its checks."""
