export { Api, ApiError, NetworkError, type ApiResponse } from "./api";
export { describe, Session, SessionExpiredError } from "./auth";
export { startClient, type ClientApp } from "./boot";
export { identityPoolCredentials, loginProvider, signedIotUrl, type CredentialSource } from "./aws";
export { apiUrl, ConfigError, ConfigReader, loadConfig, type AuthConfig, type BaseConfig } from "./config";
export { LiveConnection, randomSuffix, type LiveStatus } from "./live";
export { formatAge, formatTime, parseTimestamp, headerView, noticeView, showFatal, signInView, type Notice } from "./ui";
