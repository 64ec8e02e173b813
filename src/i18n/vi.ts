/**
 * The Vietnamese catalogue: every string a person reads in the CLI (and later the console and
 * reports). Keys are dotted by command; `{name}` marks a parameter. en.ts must have every key
 * (the type checker and test/unit/i18n.test.ts both check).
 */
export const vi = {
  'error.prefix': 'loa: lỗi: {message}',
  'error.unreachable': 'không kết nối được tới dịch vụ Loa tại {url} ({reason}). Dịch vụ đã chạy chưa (npm start)? Kiểm tra LOA_URL.',
  'error.noToken': 'chưa có khóa API: đặt LOA_TOKEN (tạo bằng `loa keys create --role operator`).',
  'error.unauthorized': 'khóa API không hợp lệ hoặc đã bị thu hồi (LOA_TOKEN).',
  'error.forbidden': 'khóa API này không được phép: {message}',
  'error.http': 'dịch vụ trả lời {status}: {message}',
} as const;

export type MessageKey = keyof typeof vi;
