// The app's entry point (package.json "main"). Every registration is imported explicitly: the
// Functions host only knows the functions this file's imports register, and a glob or a missed
// import of an orchestrator or activity fails only when an orchestration first calls it.

// OpenTelemetry first: the instrumentations patch @azure/functions and the Azure SDKs as they load.
import "./observability/telemetry";

// HTTP API
import "./functions/createOrder";
import "./functions/getOrderStatus";
import "./functions/getOrder";
import "./functions/listOrders";
import "./functions/approveOrder";
import "./functions/cancelOrder";
import "./functions/listOrderPayments";
import "./functions/listOrderNotifications";
import "./functions/health";

// Operator API (README "Operating it")
import "./functions/listRejectedMessages";
import "./functions/resubmitRejectedMessage";
import "./functions/discardRejectedMessage";
import "./functions/listDeadLetters";
import "./functions/resubmitDeadLetter";
import "./functions/discardDeadLetter";
import "./functions/listStuckOrders";
import "./functions/actOnOrder";
import "./functions/listAudit";
import "./functions/getOrderHistory";
import "./functions/getOrderTrace";
import "./functions/getOrderStats";

// The console: static files and its sign-in settings
import "./functions/serveConsole";
import "./functions/getConsoleConfig";

// Service Bus triggers
import "./functions/ordersInbound";
import "./functions/deliverNotification";

// Durable: the orchestrator and its activities
import "./orchestrators/processOrder";
import "./activities/setOrderStatus";
import "./activities/chargePayment";
import "./activities/capturePayment";
import "./activities/refundPayment";
import "./activities/sendNotification";
import "./activities/sendNotifications";
