//! `lro wait`: re-send a request until a waiter's acceptors decide.

use lro_poller::waiter::{WaiterProtocol, Waiters};
use lro_poller::{Operation, OperationBuilder};

use crate::args::WaitArgs;
use crate::settings::{Settings, request};
use crate::usage::UsageError;

/// The operation of `lro wait`: the request, the waiter from the file, and
/// the waiter's policy (the Smithy delay within `--timeout`, which the
/// waiters specification makes the caller choose).
pub fn wait(args: WaitArgs) -> Result<(OperationBuilder, Settings), UsageError> {
    let settings = Settings::new(args.common, None)?.polling(args.polling)?;
    let Some(max_wait) = settings.timeout() else {
        return Err(UsageError::new(
            "lro wait needs --timeout SECONDS: the most time to wait, which a waiter must be given",
        ));
    };
    let path = args.waiter.display();
    let text = std::fs::read_to_string(&args.waiter)
        .map_err(|e| UsageError::new(format!("cannot read the waiter file `{path}`: {e}")))?;
    let waiters = Waiters::from_json(&text)
        .map_err(|e| UsageError::new(format!("the waiter file `{path}`: {e}")))?;
    let protocol = WaiterProtocol::named(&waiters, &args.name)
        .map_err(|e| UsageError::new(format!("the waiter file `{path}`: {e}")))?;
    let policy = protocol.waiter().policy(max_wait);
    let method = match (&args.method, &args.data) {
        (Some(method), _) => method.as_str(),
        (None, Some(_)) => "POST",
        (None, None) => "GET",
    };
    let request = request(method, &args.url, args.data.as_deref(), settings.headers())?;
    let builder = Operation::start(settings.transport()?, request).with_protocol(protocol);
    Ok((builder, settings.with_base_policy(policy)))
}
