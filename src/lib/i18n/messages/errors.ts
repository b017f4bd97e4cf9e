/**
 * One message per error `code` the server can send (and the few the client makes itself when
 * no answer arrives), each saying what happened and what to do next. tests/unit/error-codes
 * scans server/ for every code and fails when one is missing here in either language.
 */
export const ja = {
	// the client's own: no answer, or an answer without our envelope
	'err.offline': 'ネットワークに接続できません。電波の届く場所で、もう一度お試しください。',
	'err.timeout': 'サーバーの応答がありません。少し待ってから、もう一度お試しください。',
	'err.bad_response': 'サーバーから予期しない応答がありました。もう一度お試しください。',
	'err.http': 'サーバーでエラーが発生しました (HTTP {status})。少し待ってから、もう一度お試しください。',

	// request shape
	'err.validation_failed': '入力内容に誤りがあります。赤く表示された項目を直してください。',
	'err.malformed_json': '送信内容を読み取れませんでした。画面を再読み込みしてから、もう一度お試しください。',
	'err.bad_request': 'リクエストを処理できませんでした。画面を再読み込みしてから、もう一度お試しください。',
	'err.payload_too_large': '送信内容が大きすぎます。文章や項目を減らしてください。',
	'err.not_found': 'ページまたはデータが見つかりません。前の画面に戻ってください。',
	'err.internal_error': 'サーバーでエラーが発生しました。少し待ってから、もう一度お試しください。',
	'err.rate_limited': 'アクセスが集中しています。少し待ってから、もう一度お試しください。',
	'err.line_unavailable': 'LINEに接続できません。少し待ってから、もう一度お試しください。',
	'err.invalid_period': '期間の指定が正しくありません。開始日を終了日より前にし、3年以内の期間を選び直してください。',
	'err.invalid_setting': '設定値が正しくありません。入力内容を確認してください。',

	// staff sign-in, tablets
	'err.unauthorized': 'もう一度サインインしてください。',
	'err.session_expired': 'サインインの有効期限が切れました。もう一度サインインしてください。',
	'err.invalid_credentials': 'スタッフコードまたはPINが正しくありません。確認して、もう一度入力してください。',
	'err.invalid_pin': 'PINが正しくありません (残り {attempts} 回)。',
	'err.pin_locked': 'PINの誤りが続いたためロックしました。{minutes}分後に再試行できます。',
	'err.not_manager': 'この操作は店長または管理者のみ行えます。店長にサインインしてもらってください。',
	'err.forbidden': 'この操作の権限がありません。店長に相談してください。',
	'err.store_not_found': '店舗が見つかりません。店舗を選び直してください。',
	'err.staff_not_found': 'スタッフが見つかりません。一覧から選び直してください。',
	'err.device_revoked': 'この端末の登録は解除されています。店長に再登録を依頼してください。',
	'err.invalid_device': 'この端末の登録が無効です。店長に再登録を依頼してください。',

	// customers, products, consultations
	'err.customer_not_found': '会員が見つかりません。会員番号を確認してください。',
	'err.query_too_short': '検索するには、もう少し文字を入力してください。',
	'err.product_not_found': '商品が見つかりません。JANコードまたは品番を確認してください。',
	'err.id_conflict': 'この接客記録は別のスタッフのものとして保存済みです。新しい記録として入力し直してください。',
	'err.id_in_use': 'このIDは既に使われています。画面を再読み込みしてから、もう一度お試しください。',

	// follow-ups
	'err.follow_up_not_found': 'フォローアップが見つかりません。お客様の画面から開き直してください。',
	'err.unknown_template': 'テンプレートが見つかりません。別のテンプレートを選んでください。',
	'err.unknown_product': '選んだ商品が見つかりません。商品を選び直してください。',
	'err.too_many_products': '商品が多すぎます。商品を減らしてください。',
	'err.product_not_on_ec': 'この商品はオンラインストアで販売していません。別の商品を選んでください。',
	'err.not_allowed_no_consent': 'お客様がメッセージ受信に同意していないため送信できません。次回来店時に同意を確認してください。',
	'err.not_allowed_no_line': 'お客様がLINE連携していないため送信できません。会員証からLINE連携を案内してください。',
	'err.not_allowed_blocked': 'お客様が公式アカウントをブロックしているため送信できません。',
	'err.not_allowed_not_friend': 'お客様が公式アカウントの友だちではないため送信できません。友だち追加を案内してください。',
	'err.not_allowed_merged': 'この会員は統合済みです。統合先の会員から送信してください。',
	'err.sender_name_empty': 'あなたのLINE送信者名が未設定です。店長に設定を依頼してください。',
	'err.sender_name_too_long': 'あなたのLINE送信者名が20文字を超えています。店長に変更を依頼してください。',
	'err.sender_name_reserved': 'あなたのLINE送信者名に使用できない語が含まれています。店長に変更を依頼してください。',

	// member QR (staff scan)
	'err.qr_malformed': '会員QRではありません。LINEの会員証のQRを読み取ってください。',
	'err.qr_unknown_key': 'このQRは読み取れません。会員証を開き直してもらってください。',
	'err.qr_bad_signature': 'このQRは改ざんされているか、正しくありません。会員証を開き直してもらってください。',
	'err.qr_expired': '会員QRの有効期限が切れています。会員証を開き直してもらってください。',
	'err.qr_not_yet_valid': 'QRの日時が未来になっています。タブレットの時計を確認してください。',
	'err.qr_wrong_issuer': 'このブランドの会員QRではありません。',
	'err.qr_unknown_member': 'このQRの会員が見つかりません。会員番号で検索してください。',
	'err.qr_no_keys': '会員QRの鍵がまだこの端末にありません。オンラインで一度開いてください。',

	// member card (LIFF)
	'err.session_missing': 'LINEでログインしてください。',
	'err.session_invalid': 'ログインの有効期限が切れました。もう一度ログインしてください。',
	'err.needs_consent': '会員規約への同意が必要です。',
	'err.id_token_expired': 'LINEのログインの有効期限が切れました。もう一度ログインしてください。',
	'err.id_token_invalid': 'LINEでログインできませんでした。もう一度ログインしてください。',
	'err.id_token_wrong_channel': 'このLINEログインは別のサービス用です。LINEから会員証を開き直してください。',
	'err.link_mismatch': '会員番号と生年月日が一致しません。確認して、もう一度入力してください。',
	'err.link_throttled': '入力の誤りが続いたため、しばらくしてからお試しください。',
	'err.member_linked_elsewhere': 'この会員番号は別のLINEアカウントと連携済みです。店舗スタッフにご相談ください。',
	'err.line_already_linked': 'このLINEアカウントは別の会員番号と連携済みです。店舗スタッフにご相談ください。',

	// vendor-facing and demo endpoints (shown only in logs and the demo screens)
	'err.bad_signature': '署名が正しくありません。送信元の設定を確認してください。',
	'err.malformed_webhook': 'Webhookの内容を読み取れません。送信元の設定を確認してください。',
	'err.invalid_signature': 'Webhookの署名が一致しません。共有シークレットの設定を確認してください。',
	'err.missing_header': 'Webhookに必要なヘッダーがありません。送信元の設定を確認してください。',
	'err.unknown_topic': 'このWebhookの種類には対応していません。送信元の設定を確認してください。',
	'err.bad_user': 'デモ用のLINEユーザーIDが正しくありません。'
} as const;

export const en: Record<keyof typeof ja, string> = {
	'err.offline': 'Cannot reach the network. Move to where there is a signal and try again.',
	'err.timeout': 'The server did not answer. Wait a moment and try again.',
	'err.bad_response': 'The server sent an unexpected answer. Try again.',
	'err.http': 'The server had a problem (HTTP {status}). Wait a moment and try again.',

	'err.validation_failed': 'Some entries are not valid. Correct the fields marked in red.',
	'err.malformed_json': 'The request could not be read. Reload the page and try again.',
	'err.bad_request': 'The request could not be processed. Reload the page and try again.',
	'err.payload_too_large': 'This is too large to send. Shorten the text or remove some items.',
	'err.not_found': 'Page or data not found. Go back to the previous screen.',
	'err.internal_error': 'Something went wrong on the server. Wait a moment and try again.',
	'err.rate_limited': 'Too many requests. Wait a moment and try again.',
	'err.line_unavailable': 'LINE cannot be reached. Wait a moment and try again.',
	'err.invalid_period': 'The period is not valid. Choose a start before the end, at most 3 years long.',
	'err.invalid_setting': 'This setting value is not valid. Check what you entered.',

	'err.unauthorized': 'Please sign in again.',
	'err.session_expired': 'Your sign-in expired. Please sign in again.',
	'err.invalid_credentials': 'Wrong staff code or PIN. Check them and try again.',
	'err.invalid_pin': 'Wrong PIN ({attempts} attempts left).',
	'err.pin_locked': 'Locked after repeated wrong PINs. You can try again in {minutes} min.',
	'err.not_manager': 'Only a store manager or admin can do this. Ask your manager to sign in.',
	'err.forbidden': 'You are not allowed to do this. Ask your manager.',
	'err.store_not_found': 'Store not found. Choose the store again.',
	'err.staff_not_found': 'Staff member not found. Choose from the list again.',
	'err.device_revoked': 'This tablet was un-enrolled. Ask your manager to enroll it again.',
	'err.invalid_device': 'This tablet’s enrollment is not valid. Ask your manager to enroll it again.',

	'err.customer_not_found': 'Member not found. Check the member number.',
	'err.query_too_short': 'Type a few more characters to search.',
	'err.product_not_found': 'Product not found. Check the JAN code or SKU.',
	'err.id_conflict': 'This consultation record was saved by another staff member. Enter it again as a new record.',
	'err.id_in_use': 'This id is already in use. Reload the page and try again.',

	'err.follow_up_not_found': 'Follow-up not found. Open it again from the customer’s screen.',
	'err.unknown_template': 'Template not found. Choose another template.',
	'err.unknown_product': 'A chosen product no longer exists. Choose the products again.',
	'err.too_many_products': 'Too many products. Remove some.',
	'err.product_not_on_ec': 'This product is not sold online. Choose another product.',
	'err.not_allowed_no_consent': 'The customer has not agreed to receive messages. Ask for consent at the next visit.',
	'err.not_allowed_no_line': 'The customer has not linked LINE. Suggest linking from the member card.',
	'err.not_allowed_blocked': 'The customer has blocked the official account; messages cannot be sent.',
	'err.not_allowed_not_friend': 'The customer is not a friend of the official account. Suggest adding it.',
	'err.not_allowed_merged': 'This member was merged. Send from the surviving record.',
	'err.sender_name_empty': 'Your LINE sender name is not set. Ask your manager to set it.',
	'err.sender_name_too_long': 'Your LINE sender name is longer than 20 characters. Ask your manager to change it.',
	'err.sender_name_reserved': 'Your LINE sender name contains a reserved word. Ask your manager to change it.',

	'err.qr_malformed': 'Not a member QR. Scan the QR of the LINE member card.',
	'err.qr_unknown_key': 'This QR cannot be read. Ask the customer to reopen the member card.',
	'err.qr_bad_signature': 'This QR is altered or not valid. Ask the customer to reopen the member card.',
	'err.qr_expired': 'The member QR has expired. Ask the customer to reopen the member card.',
	'err.qr_not_yet_valid': 'The QR is dated in the future. Check the tablet’s clock.',
	'err.qr_wrong_issuer': 'This is not this brand’s member QR.',
	'err.qr_unknown_member': 'No member matches this QR. Search by member number.',
	'err.qr_no_keys': 'The member QR keys are not on this tablet yet. Go online once.',

	'err.session_missing': 'Please log in with LINE.',
	'err.session_invalid': 'Your login has expired. Please log in again.',
	'err.needs_consent': 'Please accept the membership terms.',
	'err.id_token_expired': 'Your LINE login has expired. Please log in again.',
	'err.id_token_invalid': 'Could not log in with LINE. Please log in again.',
	'err.id_token_wrong_channel': 'This LINE login belongs to another service. Reopen the member card from LINE.',
	'err.link_mismatch': 'The member number and birthday do not match. Check them and try again.',
	'err.link_throttled': 'Too many failed attempts. Please try again in a few minutes.',
	'err.member_linked_elsewhere': 'This member number is linked to another LINE account. Please ask our store staff.',
	'err.line_already_linked': 'This LINE account is already linked to another member number. Please ask our store staff.',

	'err.bad_signature': 'The signature is not valid. Check the sender’s configuration.',
	'err.malformed_webhook': 'The webhook payload could not be read. Check the sender’s configuration.',
	'err.invalid_signature': 'The webhook signature does not match. Check the shared secret.',
	'err.missing_header': 'The webhook lacks a required header. Check the sender’s configuration.',
	'err.unknown_topic': 'This webhook topic is not handled. Check the sender’s configuration.',
	'err.bad_user': 'The demo LINE user id is not valid.'
};
