// Registers every activity (import for the side effect).
import "./setOrderStatus";
import "./chargePayment";
import "./capturePayment";
import "./refundPayment";
import "./sendNotification";
import "./sendNotifications";
