// 简体中文 for every error Code the functions answer (docs/API.md; the codes
// are declared in shared/apperr, and a test in shared/console checks each
// has an entry here). The console shows this text beside the server's own
// message, which keeps the details (the value, the account, the rule), and
// the RequestId. A key ending in ".*" covers every code with that prefix:
// MissingParameter.<Name>, InvalidParameter.<Name>, OAuth.<error>.
export const ERRORS_ZH = {
  // Any function
  'InternalError': '服务内部错误。请稍后重试；如果问题持续，请把 RequestId 提供给管理员，以便在函数日志中查找原因。',
  'MalformedRequest': '请求格式不正确：不是一个 JSON 对象，或含有未知、重复或类型错误的字段。',
  'Unauthenticated': '身份验证失败：令牌缺失、无效或已过期。请重新登录。',
  'Forbidden.Role': '您的角色无权执行此操作。',
  'Forbidden.AccessRole': '您的访问角色不允许执行此操作。请联系管理账号（或委派管理员账号）的管理员为您授予更高的访问角色。',
  'EntityNotExists.Grant': '该人员没有访问授权。',
  'Conflict.PermanentAdministrator': '该人员是固定管理员（账号的主身份或 SASE_ADMINISTRATORS 中的人员），其访问角色不能更改或撤销。',
  'MethodNotAllowed': '请求使用了不被接受的 HTTP 方法。',
  'RequestEntityTooLarge': '请求内容过大。',
  'Throttling': '请求过于频繁，或资源目录中有其他变更正在进行。请几秒后重试。',
  'ServiceUnavailable': '资源目录或存储服务暂时不可用。请稍后重试；如果服务器信息说明变更已生效，请勿重复操作。',
  'ServiceUnavailable.Permission': '函数的 RAM 角色缺少所需权限（服务器信息中列出所缺的操作）。请管理员按部署文档“函数角色”一节为该角色授权。',
  'NotFound': '请求的地址不存在。',
  'MissingParameter.*': '缺少必填参数（参数名见错误码）。',
  'InvalidParameter.*': '参数值不符合规则（参数名见错误码，规则见服务器信息）。',

  // Resource directory, members, invitations, delegated administrator
  'EntityNotExists.ResourceDirectory': '尚未开通资源目录，或资源目录已被删除。请先完成步骤 1。',
  'EntityAlreadyExists.ResourceDirectory': '该账号已有资源目录，或已属于其他资源目录。请先退出该资源目录。',
  'EntityNotExists.Member': '该账号不是 SASE 成员。',
  'EntityNotExists.Invitation': '资源目录中没有该邀请。',
  'EntityNotExists.Account': '该账号不在资源目录中。',
  'EntityNotExists.DelegatedAdministrator': '该账号不是 SASE 的委派管理员。',
  'EntityNotExists.Folder': '资源目录中没有该文件夹。',
  'EntityAlreadyExists.Folder': '同一父文件夹下已有同名文件夹。',
  'LimitExceeded.Folder.Depth': '文件夹层级过深：根文件夹下最多 5 层。',
  'Conflict.DelegatedAdministratorExists': '已有其他账号是 SASE 的委派管理员。请先移除它。',
  'Conflict.DisplayNameExists': '资源目录中已有同名的成员账号。请换一个显示名称。',
  'Conflict.AccountNameExists': '资源目录中已有使用该账号名前缀的成员账号。请换一个前缀。',
  'Conflict.Version': '内容已被其他人修改（版本不一致）。请重新加载后再试。',
  'Conflict.InvitationStatus': '该邀请已不再是待处理状态。',
  'Conflict.TrustedService': '资源目录拒绝了 SASE 的服务主体：SASE 不是该资源目录的可信服务，或服务主体配置有误。',

  // enable-directory: Resource Directory refuses the owner's account
  'Conflict.EnterpriseVerificationRequired': '该账号未完成企业实名认证（个人认证不够）。请在阿里云控制台完成企业实名认证后再开通。',
  'Conflict.EnterpriseNameRequired': '请先在账号信息中设置企业名称，然后再开通。',
  'Conflict.SecureMobilePhoneRequired': '请先在账号安全设置中绑定安全手机，然后再开通。',
  'Conflict.SecurityInfoRequired': '请先完善账号的安全信息（安全手机和邮箱），然后再开通。',
  'Conflict.AccountTypeNotSupported': '此类型的账号不能作为管理账号：请在已完成企业实名认证、且本身不是资源目录成员的账号中部署。',
  'Conflict.AccountSiteNotSupported': '该账号所属站点（中国站或国际站）不支持开通：请使用受支持站点的账号，或在该站点的控制台中开通。',
  'Conflict.DirectoryPrecondition': '资源目录拒绝开通。请按服务器信息中引用的资源目录错误修正后重试。',

  // invite-accounts: one target's result
  'AlreadyInDirectory': '该账号已在本资源目录中（或是其管理账号），无需操作。',
  'InvitationPending': '该账号已有待处理的邀请。请等待对方回复，或取消该邀请。',
  'LimitExceeded': '已达到成员数量上限或当日邀请次数上限。',
  'InAnotherDirectory': '该账号属于其他资源目录，必须先退出该资源目录。',
  'LegalEntityMismatch': '该账号的实名认证主体与管理账号不同：请邀请同一企业认证的账号。',
  'AccountTypeNotSupported': '资源目录无法邀请此类型的账号。',
  'InvitationTargetLimitExceeded': '资源目录暂时拒绝向该对象发送更多邀请：请确认 UID 或邮箱无误，稍后再试。',

  // add-members: one account's result
  'ManagementAccount': '管理账号不能成为 SASE 成员。',
  'NotInDirectory': '该账号不在资源目录中：请先邀请它（步骤 2）。',

  // Resource Directory's own refusals (local simulation helpers)
  'Deny.TrustedService': '该账号是可信服务的委派管理员，不能移出资源目录。请先移除其委派管理员身份。',
  'DeleteConflict.ResourceDirectory.Account': '资源目录中仍有成员账号，不能删除。',

  // Sign-in (the console function's token exchange)
  'OAuth.*': '登录服务拒绝了本次登录。请重新登录。',

  // Following membership: webhooks
  'EntityNotExists.Webhook': '没有该 Webhook，或它属于其他账号。',
  'LimitExceeded.Webhook': '每个资源目录最多 10 个 Webhook。请先删除不再使用的 Webhook。',
  'Conflict.WebhookBusy': '该 Webhook 正在投递中，请几秒后重试。',
};
