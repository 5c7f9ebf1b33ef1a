// Directive names used by the missing-semicolon heuristic: a line that starts with one of these while
// the previous statement is still open almost certainly means a forgotten ";".
export const KNOWN_NGINX_DIRECTIVES: ReadonlySet<string> = new Set(`
access_log add_header add_trailer alias allow auth_basic auth_basic_user_file auth_request autoindex break
charset client_body_buffer_size client_body_temp_path client_body_timeout client_header_buffer_size
client_max_body_size default_type deny error_log error_page etag events expires fastcgi_buffer_size
fastcgi_buffers fastcgi_cache fastcgi_index fastcgi_intercept_errors fastcgi_param fastcgi_pass
fastcgi_read_timeout fastcgi_split_path_info gzip gzip_comp_level gzip_min_length gzip_proxied gzip_types
gzip_vary http http2 if include index internal keepalive keepalive_timeout large_client_header_buffers
limit_conn limit_except limit_req listen location log_format map more_set_headers open_file_cache
proxy_buffer_size proxy_buffering proxy_buffers proxy_cache proxy_cache_valid proxy_connect_timeout
proxy_http_version proxy_hide_header proxy_pass proxy_pass_header proxy_read_timeout proxy_redirect
proxy_send_timeout proxy_set_header proxy_ssl_certificate proxy_ssl_certificate_key proxy_ssl_verify
real_ip_header resolver return rewrite root satisfy sendfile server server_name server_tokens set
ssl ssl_certificate ssl_certificate_key ssl_ciphers ssl_client_certificate ssl_crl ssl_dhparam
ssl_ecdh_curve ssl_prefer_server_ciphers ssl_protocols ssl_session_cache ssl_session_tickets
ssl_session_timeout ssl_stapling ssl_stapling_verify ssl_trusted_certificate ssl_verify_client
ssl_verify_depth ssl_reject_handshake stream sub_filter tcp_nodelay tcp_nopush try_files types upstream
uwsgi_param uwsgi_pass user worker_connections worker_processes
`.trim().split(/\s+/));

/** Blocks whose statements are data (key value pairs), not directives. */
export const NGINX_FREEFORM_BLOCKS: ReadonlySet<string> = new Set([
  'map', 'types', 'geo', 'split_clients', 'match', 'charset_map', 'upstream_conf',
]);
