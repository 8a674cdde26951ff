import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { StackSettings } from './settings.js';

/**
 * Where every alarm (and its return to OK) is sent: subscribe people, chat or paging to it;
 * `alarmEmail` subscribes an address (AWS mails a confirmation link first).
 */
export function alarmTopic(scope: Construct, settings: StackSettings): Topic {
  const topic = new Topic(scope, 'AlarmTopic', { displayName: `ChatKit ${settings.stageName} alarms`, enforceSSL: true });
  if (settings.alarmEmail) topic.addSubscription(new EmailSubscription(settings.alarmEmail));
  return topic;
}
